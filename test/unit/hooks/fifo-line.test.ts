import { describe, expect, it } from 'vitest';
import {
  keepalivedRsName,
  keepalivedVsName,
  rsLine,
  vrrpPriorityLine,
  vrrpStateLine,
  vsLine,
} from '../../../src/hooks/fifo-line.js';

describe('notify FIFO lines (keepalived format)', () => {
  it('VRRP lines quote the name; a group reports priority 0', () => {
    expect(vrrpStateLine('INSTANCE', 'VI_1', 'MASTER', 100)).toBe('INSTANCE "VI_1" MASTER 100\n');
    expect(vrrpStateLine('GROUP', 'G1', 'FAULT', 100)).toBe('GROUP "G1" FAULT 0\n');
    expect(vrrpPriorityLine('VI_1', false, 90)).toBe('INSTANCE "VI_1" BACKUP_PRIORITY 90\n');
  });

  it('virtual and real server names as keepalived formats them', () => {
    const v4 = {
      name: 'tcp:198.18.0.10:80',
      services: [
        { kind: 'service', protocol: 'tcp', address: '198.18.0.10', family: 4, port: 80 },
      ] as const,
    };
    const v6 = {
      name: 'udp:[2001:db8::10]:53',
      services: [
        { kind: 'service', protocol: 'udp', address: '2001:db8::10', family: 6, port: 53 },
      ] as const,
    };
    const group = { name: 'group:WEB', services: v4.services };
    const fwm = { name: 'fwm:7', services: [{ kind: 'fwmark', fwmark: 7, family: 4 }] as const };
    expect(keepalivedVsName(v4)).toBe('[198.18.0.10]:tcp:80');
    expect(keepalivedVsName(v6)).toBe('[2001:db8::10]:udp:53');
    expect(keepalivedVsName(group)).toBe('[WEB]:0');
    expect(keepalivedVsName(fwm)).toBe('FWM 7');
    expect(keepalivedRsName(v6, { address: '2001:db8:1::11', port: 53 })).toBe(
      '[2001:db8:1::11]:udp:53',
    );
    expect(rsLine('[198.18.1.11]:tcp:80', '[198.18.0.10]:tcp:80', true)).toBe(
      'RS [198.18.1.11]:tcp:80 [198.18.0.10]:tcp:80 UP\n',
    );
    expect(vsLine('FWM 7', false)).toBe('VS FWM 7 DOWN\n');
  });
});
