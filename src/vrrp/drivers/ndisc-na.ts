/**
 * Unsolicited IPv6 neighbour advertisements (RFC 4861 §7.2.6) without raw sockets in Node.
 *
 * Node has no raw ICMPv6 socket, and the kernel's own `ndisc_notify` sysctl does not help for a
 * VIP: the kernel sends its unsolicited NA only when duplicate-address detection completes
 * (measured here: 1.7–1.8 s after `ip addr add`, the address unusable meanwhile), never for an
 * address added with `nodad` (as keepalived adds VIPs); the other trigger, a hardware-address
 * change, also flushes the director's neighbour table and makes some NICs reset their link.
 * Debian ships no NA sender in a base install (ndisc6 only solicits). So lvsd sends the NA the
 * way keepalived does (an ICMPv6 raw socket), from a small script run by perl, which Debian
 * marks Essential (perl-base, with its Socket module). The script below is lvsd's own.
 *
 * argv: DEV ADDRESS... ; for each address one NA to ff02::1 out of DEV, hop limit 255, source
 * and target = the address, flags Override (and Router when IPv6 forwarding is on for DEV, as
 * keepalived sets it), option "target link-layer address" = DEV's MAC. The kernel fills in the
 * ICMPv6 checksum. Exit 0 when every NA was sent; 1 with one line per failure otherwise.
 */
export const NA_SCRIPT = String.raw`
use strict; use warnings;
use Socket qw(AF_INET6 SOCK_RAW IPPROTO_IPV6 IPPROTO_ICMPV6 IPV6_MULTICAST_HOPS IPV6_MULTICAST_IF inet_pton pack_sockaddr_in6);
my ($dev, @addrs) = @ARGV;
die "usage: DEV ADDRESS...\n" unless defined $dev && @addrs;
sub slurp { my ($f) = @_; open(my $h, '<', $f) or return undef; my $v = <$h>; close $h; chomp $v if defined $v; return $v; }
my $ifindex = slurp("/sys/class/net/$dev/ifindex");
die "no interface $dev\n" unless defined $ifindex;
my $mac = slurp("/sys/class/net/$dev/address") // '';
die "interface $dev has no MAC address\n" unless $mac =~ /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;
my $lladdr = pack('H12', join('', split(/:/, $mac)));
my $fwd = slurp("/proc/sys/net/ipv6/conf/$dev/forwarding") // '0';
my $flags = 0x20 | ($fwd eq '1' ? 0x80 : 0);
my $dst = pack_sockaddr_in6(0, inet_pton(AF_INET6, 'ff02::1'), $ifindex);
my $bad = 0;
for my $a (@addrs) {
  my $target = inet_pton(AF_INET6, $a);
  unless (defined $target) { print "$a: not an IPv6 address\n"; $bad++; next; }
  my $s;
  unless (socket($s, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)) { print "$a: socket: $!\n"; $bad++; next; }
  setsockopt($s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, pack('i', 255));
  setsockopt($s, IPPROTO_IPV6, IPV6_MULTICAST_IF, pack('i', $ifindex));
  my $scope = (substr($target, 0, 2) eq "\xfe\x80") ? $ifindex : 0;
  unless (bind($s, pack_sockaddr_in6(0, $target, $scope))) { print "$a: bind: $!\n"; $bad++; close $s; next; }
  my $na = pack('CCnN', 136, 0, 0, $flags << 24) . $target . pack('CC', 2, 1) . $lladdr;
  unless (defined send($s, $na, 0, $dst)) { print "$a: send: $!\n"; $bad++; }
  close $s;
}
exit($bad ? 1 : 0);
`;
