/** Asks OpenBao itself (not through Grantline's adapter) whether a token accessor or a lease still exists. */
export function openBaoApi(bao: { url: string; token: string }) {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${bao.url}/v1/${path}`, {
      method: 'POST',
      headers: { 'x-vault-token': bao.token, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { errors?: string[]; data?: unknown } };
  };
  return {
    accessorExists: async (accessor: string) =>
      (await post('auth/token/lookup-accessor', { accessor })).status === 200,
    leaseExists: async (leaseId: string) =>
      (await post('sys/leases/lookup', { lease_id: leaseId })).status === 200,
    async tokenWorks(token: string): Promise<boolean> {
      const res = await fetch(`${bao.url}/v1/auth/token/lookup-self`, {
        headers: { 'x-vault-token': token },
      });
      await res.body?.cancel();
      return res.status === 200;
    },
  };
}
