package serveconfig

import "net"

// LoopbackListen reports whether a listen address is reachable from this
// machine only. An empty host, 0.0.0.0 or :: listen on every interface,
// and a host name other than localhost may resolve to anything.
func LoopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NonLoopbackListen is the one wording of why a listen address that is
// not loopback needs TLS: the config file's warning and vigil serve's
// refusal both say it. where names the setting ("--listen",
// "listen in vigil.yaml").
func NonLoopbackListen(where, addr string) string {
	return where + " " + addr + " is not a loopback address: API tokens and session cookies would cross the network in clear, " +
		"so vigil serve refuses it unless it serves HTTPS itself (--tls-cert and --tls-key) " +
		"or --insecure-http says a TLS-terminating proxy is in front"
}
