// Package outbound is the HTTP client for URLs that outsiders choose
// (integrators' webhook endpoints): it refuses to reach inside the
// network. The address is checked after DNS resolution, on the very
// connection that is dialled (so a name that resolves to a public address
// when registered and to a private one later is refused too): loopback,
// private (RFC 1918, IPv6 ULA), link-local (and so the cloud metadata
// service at 169.254.169.254), shared (100.64/10), unspecified, multicast
// and other special ranges. Only https unless AllowHTTP; no redirects;
// a time limit per request and a size limit on what is read back.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Policy says what the client may reach.
type Policy struct {
	// AllowHTTP accepts http:// URLs (the local stack; deployed stages
	// accept https only).
	AllowHTTP bool
	// AllowLoopback accepts 127.0.0.0/8 and ::1 (the local stack, whose
	// test receivers listen on loopback).
	AllowLoopback bool
}

// ErrRefused is the error of a URL or address the policy refuses.
var ErrRefused = errors.New("address refused")

// blocked are the ranges no outside URL may reach.
var blocked = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
		"224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "64:ff9b::/96", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Allowed reports whether the policy lets a connection reach ip.
func (p Policy) Allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	if p.AllowLoopback && ip.IsLoopback() {
		return true
	}
	for _, b := range blocked {
		if b.Contains(ip) {
			return false
		}
	}
	return ip.IsValid()
}

// CheckURL checks a URL's scheme and every address its host resolves to
// now (what registration can check; delivery checks again on dialling).
func (p Policy) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("%w: not a URL", ErrRefused)
	}
	if u.Scheme != "https" && !(p.AllowHTTP && u.Scheme == "http") {
		return fmt.Errorf("%w: scheme %s", ErrRefused, u.Scheme)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil {
		return fmt.Errorf("resolve %s: %w", u.Hostname(), err)
	}
	for _, a := range addrs {
		if !p.Allowed(a) {
			return fmt.Errorf("%w: %s resolves to a non-public address", ErrRefused, u.Hostname())
		}
	}
	return nil
}

// MaxResponse is how much of a response is read (the rest is dropped).
const MaxResponse = 64 << 10

// Client returns an HTTP client that applies the policy on every dial,
// follows no redirect and gives up after timeout.
func (p Policy) Client(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !p.Allowed(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrRefused, address)
			}
			return nil
		},
	}
	tr := &http.Transport{
		Proxy:                 nil, // never through a proxy: it would dial for us, unchecked
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Drain reads at most MaxResponse of body and closes it.
func Drain(body io.ReadCloser) []byte {
	b, _ := io.ReadAll(io.LimitReader(body, MaxResponse))
	_ = body.Close()
	return b
}
