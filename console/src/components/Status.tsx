/** A state as text and colour (the text carries the meaning; colour only repeats it). */
export function Status({ value }: { value: string }) {
  return <span className={`status status-${value.replace(/[^a-z_]/g, '')}`}>{value}</span>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" aria-busy="true">
      Loading {what}…
    </p>
  );
}

export function Failure({ error }: { error: Error | undefined }) {
  return error ? (
    <p role="alert" className="error">
      {error.message}
    </p>
  ) : null;
}
