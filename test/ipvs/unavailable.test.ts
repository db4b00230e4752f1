/**
 * Errors that need no IPVS: a missing ipvsadm binary (anywhere), and a kernel without IPVS,
 * where every ipvsadm command exits 2 with "Protocol not available" (this host's kernel; skipped
 * where the kernel has IPVS, e.g. in the VM).
 */
import { execaSync } from 'execa';
import { describe, expect, it } from 'vitest';
import { IpvsadmDriver } from '../../src/ipvs/drivers/ipvsadm.js';
import { isLvsdError, type LvsdError } from '../../src/lib/errors.js';

async function failure(promise: Promise<unknown>): Promise<LvsdError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isLvsdError(error)) throw new Error(`expected an LvsdError, got ${String(error)}`);
  return error;
}

function hostHasNoIpvs(): { ok: boolean; reason: string } {
  const r = execaSync('ipvsadm', ['-Ln'], { reject: false, stdin: 'ignore' });
  if (r.code === 'ENOENT')
    return { ok: false, reason: 'ipvsadm is not installed (apt-get install ipvsadm)' };
  if (r.exitCode === 2 && r.stderr.includes('Protocol not available'))
    return { ok: true, reason: '' };
  return { ok: false, reason: 'this kernel has IPVS, so it cannot show the no-IPVS error' };
}

describe('ipvsadm missing', () => {
  it('is IPVSADM_NOT_FOUND with an install hint', async () => {
    const driver = new IpvsadmDriver({ ipvsadmPath: '/nonexistent/ipvsadm' });
    const error = await failure(driver.read());
    expect(error.code).toBe('IPVSADM_NOT_FOUND');
    expect(error.message).toBe('ipvsadm not found (/nonexistent/ipvsadm)');
    expect(error.hint).toBe('apt-get install ipvsadm');
  });
});

const noIpvs = hostHasNoIpvs();
if (!noIpvs.ok) console.log(`[kernel without IPVS] skipped: ${noIpvs.reason}`);

describe.skipIf(!noIpvs.ok)('kernel without IPVS (ip_vs)', () => {
  it('read is IPVS_UNAVAILABLE, saying so plainly, with the memory hint', async () => {
    const error = await failure(new IpvsadmDriver().read());
    expect(error.code).toBe('IPVS_UNAVAILABLE');
    expect(error.message).toMatch(/^the kernel has no IPVS \(ip_vs module\): ipvsadm -\S+/);
    expect(error.message).toContain('Protocol not available');
    expect(error.hint).toBe("run with --ipvs memory to use lvsd's in-memory table");
  });

  it('apply is IPVS_UNAVAILABLE too (ipvsadm -R exits 2 the same way)', async () => {
    const error = await failure(
      new IpvsadmDriver().apply([
        { kind: 'delete-service', serviceId: { kind: 'fwmark', fwmark: 1, family: 'inet' } },
      ]),
    );
    expect(error.code).toBe('IPVS_UNAVAILABLE');
  });
});
