import pg from 'pg';
(async () => {
  const c = new pg.Client({ connectionString: process.env.U! }); await c.connect();
  const q = `select l.leaf_index, encode(l.hash, 'hex') as leaf_hash, e.body from audit_leaves l left join audit_events e on e.seq = l.seq where l.leaf_index >= $1 and l.leaf_index < $2 order by l.leaf_index`;
  let t = performance.now();
  for (let f = 0; f < 200000; f += 10000) await c.query(q, [f, f + 10000]);
  console.log('objects', Math.round(performance.now() - t));
  t = performance.now();
  for (let f = 0; f < 200000; f += 10000) await c.query({ text: q, values: [f, f + 10000], rowMode: 'array' });
  console.log('arrays', Math.round(performance.now() - t));
  t = performance.now();
  for (let f = 0; f < 200000; f += 10000) await c.query({ text: `select string_agg(l.leaf_index || ' ' || encode(l.hash, 'hex') || ' ' || e.body, E'\\n' order by l.leaf_index) from audit_leaves l left join audit_events e on e.seq = l.seq where l.leaf_index >= $1 and l.leaf_index < $2`, values: [f, f + 10000], rowMode: 'array' });
  console.log('one string per page', Math.round(performance.now() - t));
  await c.end();
})();
