package faults_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"microcert/shared/domain"
	"microcert/shared/store"
	"microcert/shared/store/storetest"
)

// TestFaultTransportFailuresAreUnavailable: failures below the API (the connection
// dropped before or inside the response) are "retry later" (503) for the
// store's callers, never internal errors (500).
func TestFaultTransportFailuresAreUnavailable(t *testing.T) {
	cases := map[string]func(c net.Conn){
		"closed before any response": func(c net.Conn) {},
		"closed inside the body": func(c net.Conn) {
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 500\r\n\r\n{\"Item\":{\"pk\""))
		},
		"closed inside the headers": func(c net.Conn) {
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Ty"))
		},
	}
	for name, serve := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				serve(c)
				c.Close()
			}))
			defer srv.Close()
			client := storetest.NewClient(srv.URL, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
			_, _, err := store.New(client, "t", domain.DefaultRules).GetEnterprise(context.Background(), domain.NewID())
			if !domain.IsKind(err, domain.KindUnavailable) {
				t.Fatalf("%v: kind %s, want unavailable", err, domain.KindOf(err))
			}
		})
	}
}
