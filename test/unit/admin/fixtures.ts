/** A configuration with every kind of virtual server name (ruling 9), for resolution and routes. */
import { describedHost, loadConfig, type Config } from '../../../src/config/index.js';
import { MemorySource } from '../../../src/keepalived-config/index.js';

export const FIXTURE_CONF = `virtual_server_group WEB {
    198.18.0.20 80
    198.18.0.21 80
}
virtual_server group WEB {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.18.1.21 80 {
        weight 1
        TCP_CHECK { connect_timeout 1 }
    }
}
virtual_server 198.18.0.10 80 {
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 198.18.1.11 80 {
        weight 4
        TCP_CHECK { connect_timeout 1 }
    }
    real_server 198.18.1.12 80 {
        weight 2
        TCP_CHECK { connect_timeout 1 }
    }
}
virtual_server 198.18.0.10 53 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 198.18.1.11 53 {
        weight 1
        TCP_CHECK { connect_timeout 1 }
    }
}
virtual_server 198.18.0.10 53 {
    lb_algo rr
    lb_kind NAT
    protocol UDP
    real_server 198.18.1.11 53 {
        weight 1
    }
}
virtual_server fwmark 7 {
    lb_algo rr
    lb_kind DR
    real_server 198.18.1.13 0 {
        weight 1
    }
}
virtual_server 2001:db8::10 443 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 2001:db8:1::11 443 {
        weight 1
        TCP_CHECK { connect_timeout 1 }
    }
}
`;

export function fixtureConfig(text = FIXTURE_CONF): Config {
  const r = loadConfig('/etc/keepalived/keepalived.conf', {
    source: new MemorySource({ '/etc/keepalived/keepalived.conf': text }),
    host: describedHost({ interfaces: ['lo', 'eth0'], executables: [] }),
    configId: 'test',
    hostname: 'test',
  });
  if (!r.config) throw new Error(`fixture does not load: ${JSON.stringify(r.diagnostics)}`);
  return r.config;
}
