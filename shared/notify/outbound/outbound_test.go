package outbound

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestPolicyRefusesInsideAddresses(t *testing.T) {
	deployed := Policy{}
	local := Policy{AllowHTTP: true, AllowLoopback: true}
	tests := []struct {
		ip              string
		deployed, local bool
	}{
		{"93.184.216.34", true, true},
		{"2606:2800:220:1:248:1893:25c8:1946", true, true},
		{"127.0.0.1", false, true},
		{"::1", false, true},
		{"10.1.2.3", false, false},
		{"172.16.0.1", false, false},
		{"192.168.1.1", false, false},
		{"169.254.169.254", false, false}, // the metadata service
		{"100.64.0.1", false, false},
		{"0.0.0.0", false, false},
		{"fd00::1", false, false},
		{"fe80::1", false, false},
		{"::ffff:10.0.0.1", false, false}, // IPv4-mapped
		{"224.0.0.1", false, false},
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.ip)
		if got := deployed.Allowed(ip); got != tt.deployed {
			t.Errorf("deployed %s: %v", tt.ip, got)
		}
		if got := local.Allowed(ip); got != tt.local {
			t.Errorf("local %s: %v", tt.ip, got)
		}
	}
}

func TestCheckURL(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		url     string
		p       Policy
		refused bool
	}{
		{"https://93.184.216.34/hook", Policy{}, false},
		{"http://93.184.216.34/hook", Policy{}, true},
		{"https://10.0.0.5/hook", Policy{}, true},
		{"https://[::1]/hook", Policy{}, true},
		{"http://127.0.0.1:8080/hook", Policy{AllowHTTP: true, AllowLoopback: true}, false},
		{"http://169.254.169.254/latest/meta-data", Policy{AllowHTTP: true, AllowLoopback: true}, true},
		{"https://localhost/hook", Policy{}, true},
	}
	for _, tt := range tests {
		err := tt.p.CheckURL(ctx, tt.url)
		if got := errors.Is(err, ErrRefused); got != tt.refused {
			t.Errorf("%s: %v, want refused %v", tt.url, err, tt.refused)
		}
	}
}

func TestClientDialsOnlyAllowedAddressesAndFollowsNoRedirect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://169.254.169.254/", http.StatusFound)
			return
		}
		_, _ = w.Write([]byte(strings.Repeat("x", MaxResponse*2)))
	}))
	defer srv.Close()
	if _, err := (Policy{AllowHTTP: true}).Client(time.Second).Get(srv.URL); err == nil || !strings.Contains(err.Error(), ErrRefused.Error()) {
		t.Errorf("loopback without permission: %v", err)
	}
	c := Policy{AllowHTTP: true, AllowLoopback: true}.Client(time.Second)
	res, err := c.Get(srv.URL + "/redirect")
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("redirect: %v %v", res, err)
	}
	Drain(res.Body)
	res, err = c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if b := Drain(res.Body); len(b) != MaxResponse {
		t.Errorf("read %d bytes, want the limit %d", len(b), MaxResponse)
	}
}
