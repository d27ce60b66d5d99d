module grantline.dev/rfc9162-check

go 1.22

require (
	github.com/gowebpki/jcs v1.0.2
	github.com/transparency-dev/merkle v0.0.2
)
