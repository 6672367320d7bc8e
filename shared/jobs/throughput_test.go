package jobs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"microcert/shared/domain"
	"microcert/shared/jobs"
	"microcert/shared/store"
	"microcert/shared/store/storetest"
)

// BenchmarkJobsThroughput measures what one invocation of the reminder job
// gets through when every DynamoDB call takes real network time: the real
// job and store code, DefaultWorkers items at once, no pace, against the
// stand-in with 0, 5 and 10 ms added to every call by SDK middleware
// (storetest.Latency). It reports reminders sent per second of one
// invocation and calls per reminder; BENCHMARKS.md projects a 550,000-
// reminder day from them and the fan-out width (one invocation per shard).
// The stand-in's own time per call (the 0 ms run) is part of every figure,
// so they are lower bounds of what DynamoDB would give.
func BenchmarkJobsThroughput(b *testing.B) {
	due := 400
	if testing.Short() {
		due = 60
	}
	for _, latency := range []time.Duration{0, 5 * time.Millisecond, 10 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%dms", latency.Milliseconds()), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				seedStart := time.Now()
				e := newEnv(b)
				now := beijingMorning(expires, -60)
				for range due {
					e.createCert(newCert(domain.NewID(), domain.CertWeCom, expires))
				}
				slow := store.New(dynamodb.New(e.client.Options(), storetest.Latency(latency)), e.table, rules)
				cfg := e.config()
				cfg.Store = slow
				job := jobs.NewReminders(cfg)
				b.Logf("seeded %d in %v", due, time.Since(seedStart).Round(time.Millisecond))
				e.counter.Reset()
				b.StartTimer()
				start := time.Now()
				s := job.Run(ctx, now)
				took := time.Since(start)
				if !s.Complete || s.Count(jobs.OutSent) != due {
					b.Fatalf("run: %+v", s)
				}
				b.ReportMetric(float64(due)/took.Seconds(), "items/s")
				b.ReportMetric(float64(e.counter.TotalCalls())/float64(due), "calls/item")
				b.ReportMetric(float64(jobs.DefaultWorkers), "workers")
			}
		})
	}
}
