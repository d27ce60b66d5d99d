// rfc9162-check verifies Grantline audit proofs with code Grantline did not write: RFC 9162 hashing and
// proof verification from github.com/transparency-dev/merkle, RFC 8785 canonical JSON from
// github.com/gowebpki/jcs, and ES256 (compact JWS) checkpoint signatures with Go's crypto/ecdsa.
//
// Input on stdin: {"jwks": {...}, "checkpoints": [...], "inclusions": [{"event", "proof", "checkpoint"}],
// "consistencies": [{"older", "newer", "proof"}]} where "checkpoint", "older" and "newer" index
// "checkpoints". Output on stdout: the same lists as {"ok": bool, "error": string}.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"

	"github.com/gowebpki/jcs"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

type checkpoint struct {
	TreeSize  uint64 `json:"tree_size"`
	RootHash  string `json:"root_hash"`
	Timestamp int64  `json:"timestamp"`
	Signature string `json:"signature"`
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Use string `json:"use"`
}

type input struct {
	Jwks        struct{ Keys []jwk `json:"keys"` } `json:"jwks"`
	Checkpoints []checkpoint                      `json:"checkpoints"`
	Inclusions  []struct {
		Event json.RawMessage `json:"event"`
		Proof struct {
			LeafIndex uint64   `json:"leaf_index"`
			TreeSize  uint64   `json:"tree_size"`
			AuditPath []string `json:"audit_path"`
		} `json:"proof"`
		Checkpoint int `json:"checkpoint"`
	} `json:"inclusions"`
	Consistencies []struct {
		Older int `json:"older"`
		Newer int `json:"newer"`
		Proof struct {
			First uint64   `json:"first"`
			Second uint64  `json:"second"`
			Path   []string `json:"consistency_path"`
		} `json:"proof"`
	} `json:"consistencies"`
}

type result struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

func toResult(err error) result {
	if err != nil {
		return result{OK: false, Error: err.Error()}
	}
	return result{OK: true}
}

func decodePath(path []string) ([][]byte, error) {
	out := make([][]byte, len(path))
	for i, p := range path {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// verifyCheckpoint checks the compact JWS (ES256, raw r||s) with an audit key of the JWKS, and that its
// payload is exactly the tree head the checkpoint states.
func verifyCheckpoint(cp checkpoint, keys []jwk) error {
	parts := strings.Split(cp.Signature, ".")
	if len(parts) != 3 {
		return errors.New("not a compact JWS")
	}
	headerJSON, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return err
	}
	var header struct{ Alg, Kid string }
	if err := json.Unmarshal(headerJSON, &header); err != nil {
		return err
	}
	if header.Alg != "ES256" {
		return fmt.Errorf("alg %q", header.Alg)
	}
	var key *ecdsa.PublicKey
	for _, k := range keys {
		if k.Kid == header.Kid && k.Use == "audit" && k.Kty == "EC" && k.Crv == "P-256" {
			x, _ := base64.RawURLEncoding.DecodeString(k.X)
			y, _ := base64.RawURLEncoding.DecodeString(k.Y)
			key = &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
		}
	}
	if key == nil {
		return fmt.Errorf("no audit key %q in the JWKS", header.Kid)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return errors.New("bad signature encoding")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(key, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("signature does not verify")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	var head struct {
		TreeSize  uint64 `json:"tree_size"`
		RootHash  string `json:"root_hash"`
		Timestamp int64  `json:"timestamp"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return err
	}
	if head.TreeSize != cp.TreeSize || head.RootHash != cp.RootHash || head.Timestamp != cp.Timestamp {
		return errors.New("signed tree head differs from the checkpoint")
	}
	return nil
}

func root(cps []checkpoint, i int) ([]byte, uint64, error) {
	if i < 0 || i >= len(cps) {
		return nil, 0, errors.New("no such checkpoint")
	}
	r, err := base64.StdEncoding.DecodeString(cps[i].RootHash)
	return r, cps[i].TreeSize, err
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	hasher := rfc6962.DefaultHasher
	out := struct {
		Checkpoints   []result `json:"checkpoints"`
		Inclusions    []result `json:"inclusions"`
		Consistencies []result `json:"consistencies"`
	}{[]result{}, []result{}, []result{}}
	for _, cp := range in.Checkpoints {
		out.Checkpoints = append(out.Checkpoints, toResult(verifyCheckpoint(cp, in.Jwks.Keys)))
	}
	for _, inc := range in.Inclusions {
		out.Inclusions = append(out.Inclusions, toResult(func() error {
			leaf, err := jcs.Transform(inc.Event)
			if err != nil {
				return err
			}
			r, size, err := root(in.Checkpoints, inc.Checkpoint)
			if err != nil {
				return err
			}
			path, err := decodePath(inc.Proof.AuditPath)
			if err != nil {
				return err
			}
			if inc.Proof.TreeSize != size {
				return errors.New("proof is for another tree size")
			}
			return proof.VerifyInclusion(hasher, inc.Proof.LeafIndex, size, hasher.HashLeaf(leaf), path, r)
		}()))
	}
	for _, c := range in.Consistencies {
		out.Consistencies = append(out.Consistencies, toResult(func() error {
			r1, s1, err := root(in.Checkpoints, c.Older)
			if err != nil {
				return err
			}
			r2, s2, err := root(in.Checkpoints, c.Newer)
			if err != nil {
				return err
			}
			if c.Proof.First != s1 || c.Proof.Second != s2 {
				return errors.New("proof is for other tree sizes")
			}
			path, err := decodePath(c.Proof.Path)
			if err != nil {
				return err
			}
			return proof.VerifyConsistency(hasher, s1, s2, path, r1, r2)
		}()))
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(2)
	}
}
