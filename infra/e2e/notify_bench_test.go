package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"microcert/infra/localstack"
	"microcert/infra/localstack/stacktest"
)

// BenchmarkNotificationLatency measures, on a local stack whose scheduler
// runs DispatcherFunction as the template says (rate(1 minute), each run
// polling the outbox for 55 s), the time from a state change's answer to
// the signed webhook's arrival at a receiver on loopback: first one change
// every 2 s for 2.5 minutes (so changes land in every second of the
// minute, including the gap between two runs), then a burst for the
// throughput. Not part of `make test` (it waits for real minutes):
//
//	go test ./infra/e2e -run '^$' -bench NotificationLatency -benchtime 1x -timeout 20m
func BenchmarkNotificationLatency(b *testing.B) {
	st := stacktest.Start(b, func(o *localstack.Options) { o.DisableSchedules = false })
	var (
		mu      sync.Mutex
		arrived = map[string]time.Time{} // notification id -> arrival
	)
	type enterprise struct{ id, token string }
	recv := newLatencyReceiver(b, func(id string) {
		mu.Lock()
		if _, ok := arrived[id]; !ok {
			arrived[id] = time.Now()
		}
		mu.Unlock()
	})
	newEnterprise := func(i int) enterprise {
		tok := st.Bearer(b, "applicant", fmt.Sprintf("latency-owner-%d-%d", i, time.Now().UnixNano()))
		var ent struct {
			ID string `json:"id"`
		}
		st.Do(b, "POST", "/v1/enterprises", tok, enterpriseBody(nil)).WantStatus(b, http.StatusCreated).JSON(b, &ent)
		st.Do(b, "POST", "/v1/enterprises/"+ent.ID+"/webhook-endpoints", tok,
			map[string]any{"url": recv.URL, "eventTypes": []string{"member.updated"}}).WantStatus(b, http.StatusCreated)
		return enterprise{ent.ID, tok}
	}
	// invite makes one state change (an invitation: a member.updated event)
	// and returns when its transaction committed (the API's answer).
	// The notification's id is the newest of the enterprise's inbox (one
	// enterprise's invitations are made one after the other).
	invite := func(e enterprise) (string, time.Time) {
		st.Do(b, "POST", "/v1/enterprises/"+e.id+"/invitations", e.token, map[string]any{"role": "viewer"}).
			WantStatus(b, http.StatusCreated)
		at := time.Now()
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		st.Do(b, "GET", "/v1/enterprises/"+e.id+"/notifications?limit=1", e.token, nil).WantStatus(b, http.StatusOK).JSON(b, &page)
		return page.Items[0].ID, at
	}
	wait := func(ids map[string]time.Time, timeout time.Duration) []time.Duration {
		deadline := time.Now().Add(timeout)
		for {
			mu.Lock()
			done := 0
			for id := range ids {
				if _, ok := arrived[id]; ok {
					done++
				}
			}
			mu.Unlock()
			if done == len(ids) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		var out []time.Duration
		for id, at := range ids {
			got, ok := arrived[id]
			if !ok {
				b.Fatalf("notification %s: no event within %s", id, timeout)
			}
			out = append(out, got.Sub(at))
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out
	}
	pct := func(ds []time.Duration, p float64) time.Duration { return ds[int(float64(len(ds)-1)*p)] }

	b.ResetTimer()
	// Latency: one change every 2 s for 150 s, over 3 enterprises (50
	// invitations at most each).
	ents := []enterprise{newEnterprise(0), newEnterprise(1), newEnterprise(2)}
	sent := map[string]time.Time{}
	for i := 0; i < 75; i++ {
		id, at := invite(ents[i%len(ents)])
		sent[id] = at
		time.Sleep(2 * time.Second)
	}
	lat := wait(sent, 2*time.Minute)
	b.ReportMetric(float64(pct(lat, 0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(pct(lat, 0.99).Milliseconds()), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
	b.Logf("latency over %d changes: p50 %s, p99 %s, max %s", len(lat), pct(lat, 0.5), pct(lat, 0.99), lat[len(lat)-1])

	// Throughput: 200 changes at once (4 enterprises x 50), timed from the
	// last answer to the last arrival.
	burst := map[string]time.Time{}
	var last time.Time
	for i := 0; i < 4; i++ {
		e := newEnterprise(10 + i)
		for j := 0; j < 50; j++ {
			id, at := invite(e)
			burst[id], last = at, at
		}
	}
	bl := wait(burst, 5*time.Minute)
	var lastArrival time.Time
	mu.Lock()
	for id := range burst {
		if arrived[id].After(lastArrival) {
			lastArrival = arrived[id]
		}
	}
	mu.Unlock()
	first := last
	for _, at := range burst {
		if at.Before(first) {
			first = at
		}
	}
	rate := float64(len(burst)) / lastArrival.Sub(first).Seconds()
	b.ReportMetric(rate, "deliveries/s")
	b.Logf("burst of %d: written in %s, all delivered %s after the first; p50 %s, p99 %s; %.1f deliveries/s",
		len(burst), last.Sub(first), lastArrival.Sub(first), pct(bl, 0.5), pct(bl, 0.99), rate)
}

// latencyReceiver is a webhook endpoint that reports the notification id
// of each event as it arrives.
func newLatencyReceiver(b *testing.B, arrived func(notificationID string)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Data struct {
				NotificationID string `json:"notificationId"`
			} `json:"data"`
		}
		_ = json.NewDecoder(r.Body).Decode(&ev)
		arrived(ev.Data.NotificationID)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	return srv
}
