import pg from 'pg';
(async () => {
  const c = new pg.Client({ connectionString: process.env.U! }); await c.connect();
  const t = { begin: 0, ins: 0, commit: 0, sel: 0 }; const N = 300;
  for (let i = 0; i < N; i++) {
    let a = performance.now(); await c.query('select 1'); t.sel += performance.now() - a;
    a = performance.now(); await c.query('begin'); t.begin += performance.now() - a;
    a = performance.now(); await c.query(`insert into audit_events (at, type, payload, body) values (now(), 'x', '{}', '{"at":"x","grant_id":null,"payload":{},"principal":null,"task_id":null,"type":"x"}')`); t.ins += performance.now() - a;
    a = performance.now(); await c.query('commit'); t.commit += performance.now() - a;
  }
  for (const k of Object.keys(t)) console.log(k, ((t as any)[k] / N).toFixed(3), 'ms');
  await c.end();
})();
