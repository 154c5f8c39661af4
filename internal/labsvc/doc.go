// Package labsvc runs small, realistic network services inside sonde's
// practice lab, so that scanners (sonde scan -sV, nmap), sr, capture and
// analysis have real things to talk to — with no external daemon and no
// interpreter, in the sonde process itself.
//
// A Spec names a service and a port ("ssh:22", "dns:53"; see ParseSpecs).
// Listen opens every socket at once, on the wildcard address, dual-stack
// where the system has IPv6: with a local route (ip route add local
// 198.19.0.0/16 dev lo) one Server answers on every address of the range.
// Serve then runs the services until its context is done.
//
// TCP services speak enough of their protocol for version detection to name
// them, as the Debian 12 packages would answer:
//
//   - ssh: the identification "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3",
//     the client's identification read, an OpenSSH-like KEXINIT, then a
//     polite DISCONNECT after the client's first packet. No login.
//   - http: nginx/1.22.1 serving a small page with a <title> at / (and
//     /robots.txt); nginx's 404 page elsewhere, 405 for methods other than
//     GET, HEAD and OPTIONS, 400 for a malformed request.
//   - https: the same inside TLS (1.2 or 1.3) with a self-signed ECDSA
//     certificate made by Listen for Config.Hostname and the names and
//     addresses of Config.Names; plain HTTP on it gets nginx's "plain HTTP
//     request was sent to HTTPS port" page.
//   - smtp: "220 HOST ESMTP Postfix (Debian/GNU)"; EHLO, HELO, NOOP, RSET,
//     QUIT; 502 for anything else (no mail is accepted).
//   - ftp: "220 (vsFTPd 3.0.3)"; USER, PASS (always 530 Login incorrect),
//     SYST, FEAT, NOOP, QUIT.
//   - mysql: a protocol v10 handshake from server 8.0.36-0+deb12u1, then
//     error 1045 (access denied) after the client's reply.
//   - redis: RESP, multibulk or inline, as a read-only replica with an
//     empty database: PING, ECHO, INFO (redis_version 7.0.15), GET (nil),
//     SET and DEL (-READONLY), QUIT; -ERR for the rest.
//   - echo (RFC 862) and banner (Config.Banner, then reads and discards).
//   - dns over TCP ("dns:53/tcp"): the DNS service below with RFC 7766
//     framing, several queries per connection, no 512-byte cut.
//
// UDP services answer each datagram from the address it was sent to:
//
//   - dns: authoritative for Config.Names: A, AAAA, PTR (reverse names of
//     the addresses) and ANY; NODATA for other types of a name, NXDOMAIN
//     for names outside the zone, case-insensitive; no EDNS, answers cut
//     at 512 bytes with TC set. Malformed queries and responses are
//     ignored.
//   - ntp: a stratum-2 server's mode-4 reply to a mode-3 request, with the
//     request's transmit time as origin and the current time (RFC 5905).
//   - echo (RFC 862), except to the ports of services that answer
//     anything (echo, chargen, DNS, NTP …) and its own, so that forged
//     sources cannot start an echo loop between two hosts.
//   - snmp: an SNMPv1/v2c agent for community "public" answering get and
//     get-next on the system group (sysDescr.0 … sysLocation.0).
//
// nmap 7.93's version detection (-sV) names ssh, http, ssl/http, smtp,
// ftp, mysql and redis with the products and versions above, and ntp,
// snmp, echo and domain over UDP; the tests check it where nmap is
// installed (UDP as root, in a network namespace of their own).
//
// Every TCP read waits at most Config.Timeout, a connection lives at most
// MaxLifetime; at most Config.MaxConns TCP
// connections are served at once and a connection over the cap is reset at
// once, so a scan cannot exhaust the process. A hostile or malformed
// request never crashes the server: the parsers are fuzzed.
//
// # Privileges
//
// Ports below 1024 need root or CAP_NET_BIND_SERVICE (as in a network
// namespace made by root). Listen's errors then satisfy
// errors.Is(err, os.ErrPermission).
//
// # Concurrency
//
// Listen opens every socket synchronously in the calling goroutine and
// starts no goroutine, so it may run on an OS thread locked into another
// network namespace: the sockets stay in that namespace whichever thread
// serves them later. Serve starts one goroutine per socket and one per TCP
// connection, and returns only after all of them have ended. The methods
// of a Server are safe for concurrent use; Config.Logger is called from
// many goroutines at once.
package labsvc
