/**
 * ipvsadm output copied byte for byte (trailing spaces included) from shared/ipvs-vm/README.md,
 * recorded from ipvsadm 1.31 on Debian kernel 6.1. Embedded so the tests need only the project.
 */

/** `ipvsadm -Sn` */
export const SAVE_NAT_DR_TUN_UDP =
  '-A -t 198.18.0.10:80 -s wrr\n-a -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 3\n-a -t 198.18.0.10:80 -r 198.18.1.12:80 -m -w 1\n-A -t 198.18.0.20:443 -s wlc -p 300\n-a -t 198.18.0.20:443 -r 198.18.1.11:443 -g -w 5\n-a -t 198.18.0.20:443 -r 198.18.1.12:443 -g -w 5\n-A -t 198.18.0.30:80 -s rr\n-a -t 198.18.0.30:80 -r 198.18.1.11:80 -i -w 1 --tun-type ipip\n-a -t 198.18.0.30:80 -r 198.18.1.12:80 -i -w 2 --tun-type ipip\n-A -u 198.18.0.10:53 -s lc\n-a -u 198.18.0.10:53 -r 198.18.1.11:53 -m -w 1\n';

/** `ipvsadm -Sn` */
export const SAVE_SORTED =
  '-A -t 198.18.0.10:80 -s rr\n-a -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 1\n-a -t 198.18.0.10:80 -r 198.18.1.11:8080 -m -w 1\n-a -t 198.18.0.10:80 -r 198.18.1.12:80 -m -w 1\n-a -t 198.18.0.10:80 -r 198.18.1.13:80 -m -w 1\n-a -t 198.18.0.10:80 -r 198.18.1.14:80 -m -w 1\n-A -t 198.18.0.10:443 -s rr\n-A -t 198.18.0.30:80 -s rr\n-A -u 198.18.0.10:53 -s rr\n-A -f 1 -s rr\n';

/** `ipvsadm -Sn` */
export const SAVE_OTHER_KINDS =
  '-A -t 198.18.0.50:0 -s sh -p 120\n-A -t 198.18.0.52:80 -s wlc -p 30 -M 255.255.255.0\n-A -u 198.18.0.53:53 -s rr -o\n-A -t [2001:db8::10]:80 -s rr\n-a -t [2001:db8::10]:80 -r [2001:db8::11]:80 -m -w 1\n-A -f 7 -s lc\n-a -f 7 -r 198.18.1.11:0 -g -w 1\n';

/** `ipvsadm -Ln` */
export const LIST_CONNECTIONS =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  198.18.0.10:80 wrr\n  -> 198.18.1.11:80               Masq    3      0          0         \n  -> 198.18.1.12:80               Masq    1      0          0         \nTCP  198.18.0.20:443 wlc persistent 300\n  -> 198.18.1.11:443              Route   5      0          0         \n  -> 198.18.1.12:443              Route   5      0          0         \nTCP  198.18.0.30:80 rr\n  -> 198.18.1.11:80               Tunnel  1      0          0         \n  -> 198.18.1.12:80               Tunnel  2      0          0         \nUDP  198.18.0.10:53 lc\n  -> 198.18.1.11:53               Masq    1      0          0         \n';

/** `ipvsadm -Ln --stats` */
export const LIST_STATS =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\nTCP  198.18.0.10:80                      0        0        0        0        0\n  -> 198.18.1.11:80                      0        0        0        0        0\n  -> 198.18.1.12:80                      0        0        0        0        0\nTCP  198.18.0.20:443                     0        0        0        0        0\n  -> 198.18.1.11:443                     0        0        0        0        0\n  -> 198.18.1.12:443                     0        0        0        0        0\nTCP  198.18.0.30:80                      0        0        0        0        0\n  -> 198.18.1.11:80                      0        0        0        0        0\n  -> 198.18.1.12:80                      0        0        0        0        0\nUDP  198.18.0.10:53                      0        0        0        0        0\n  -> 198.18.1.11:53                      0        0        0        0        0\n';

/** `ipvsadm -Ln --rate` */
export const LIST_RATE =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  -> RemoteAddress:Port\nTCP  198.18.0.10:80                      0        0        0        0        0\n  -> 198.18.1.11:80                      0        0        0        0        0\n  -> 198.18.1.12:80                      0        0        0        0        0\nTCP  198.18.0.20:443                     0        0        0        0        0\n  -> 198.18.1.11:443                     0        0        0        0        0\n  -> 198.18.1.12:443                     0        0        0        0        0\nTCP  198.18.0.30:80                      0        0        0        0        0\n  -> 198.18.1.11:80                      0        0        0        0        0\n  -> 198.18.1.12:80                      0        0        0        0        0\nUDP  198.18.0.10:53                      0        0        0        0        0\n  -> 198.18.1.11:53                      0        0        0        0        0\n';

/** `ipvsadm -Ln --stats` */
export const LIST_STATS_TRAFFIC =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\nTCP  198.18.0.10:80                      1      231      257    12053  3014469\n  -> 198.18.1.2:80                       1      231      257    12053  3014469\n';

/** `ipvsadm -Ln --rate` */
export const LIST_RATE_TRAFFIC =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  -> RemoteAddress:Port\nTCP  198.18.0.10:80                      0       29       32     1507   376809\n  -> 198.18.1.2:80                       0       29       32     1507   376809\n';

/** `ipvsadm -Ln -t 198.18.0.10:80` */
export const LIST_ONE_SERVICE =
  'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  198.18.0.10:80 wrr\n  -> 198.18.1.11:80               Masq    3      0          0         \n  -> 198.18.1.12:80               Masq    1      0          0         \n';

/** `ipvsadm -Sn` */
export const SAVE_MIXED_METHODS =
  '-A -t 198.18.0.10:80 -s wrr\n-a -t 198.18.0.10:80 -r 198.18.1.11:80 -m -w 3\n-a -t 198.18.0.10:80 -r 198.18.1.12:80 -i -w 2 --tun-type ipip\n-a -t 198.18.0.10:80 -r 198.18.1.13:80 -g -w 1\n-a -t 198.18.0.10:80 -r 198.18.1.14:80 -g -w 1\n';

/** `ipvsadm -Ln -t 198.18.0.10:80` */
export const LIST_INT_MAX_WEIGHT =
  'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  198.18.0.10:80 wrr\n  -> 198.18.1.11:80               Masq    3      0          0         \n  -> 198.18.1.12:80               Masq    2147483647 0          0         \n';

/** `ipvsadm -Ln` */
export const LIST_DRAINING =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  198.18.0.10:80 rr\n  -> 198.18.1.2:80                Masq    1      0          3         \n  -> 198.18.1.3:80                Masq    0      1          3         \n';

/** `ipvsadm -Ln -t 198.18.0.10:80` */
export const LIST_DRAINED =
  'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  198.18.0.10:80 rr\n  -> 198.18.1.2:80                Masq    1      0          7         \n  -> 198.18.1.3:80                Masq    0      0          4         \n';

/** `ipvsadm -Ln` */
export const LIST_E2E =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  198.18.0.10:80 rr\n  -> 198.18.1.2:80                Masq    1      0          3         \n  -> 198.18.1.3:80                Masq    1      0          3         \n';

/** `ipvsadm -Ln --stats` */
export const LIST_E2E_STATS =
  'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\nTCP  198.18.0.10:80                      6       42       30     2340     2874\n  -> 198.18.1.2:80                       3       21       15     1170     1437\n  -> 198.18.1.3:80                       3       21       15     1170     1437\n';
