package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"microcert/infra/localstack"
	"microcert/infra/localstack/stacktest"
)

// acknowledged is what the stack said it did: what must be there after any
// restart.
type acknowledged struct {
	enterprises map[string]string   // id -> name
	cases       []string            // case ids
	uploads     map[string][]string // case id -> document ids uploaded (204 from S3)
}

// TestKilledStackKeepsAcknowledgedWork kills the stack with SIGKILL right after
// acknowledged writes, then right after uploads, then stops it cleanly right
// after more uploads. After each restart every acknowledged write is there,
// and every upload gets checked (or dead-lettered): the table's journal, the
// pending deliveries and the announced objects carry them across.
func TestKilledStackKeepsAcknowledgedWork(t *testing.T) {
	ownStack(t)
	state := t.TempDir()
	user := fmt.Sprintf("durable-%d", time.Now().UnixNano())
	ack := acknowledged{enterprises: map[string]string{}, uploads: map[string][]string{}}

	// 1. Writes, and kill -9 the moment the last one is acknowledged.
	p := stacktest.StartProcess(t, state)
	a := &app{t: t, base: p.Info.API, token: p.Token(t, "applicant", user)}
	for i := range 4 {
		ent := a.createEnterprise(func(b map[string]any) { b["name"] = fmt.Sprintf("深圳市持久%d科技有限公司", i) })
		id := ent["id"].(string)
		ack.enterprises[id] = ent["name"].(string)
		ack.cases = append(ack.cases, a.openCase(id, "initial", "wecom")["id"].(string))
	}
	p.Kill(t)

	// 2. Everything is there; uploads, and kill -9 the moment S3 answered the
	// last one (its event is still in versitygw or in the stack's queue).
	p = stacktest.StartProcess(t, state)
	a.base = p.Info.API
	checkAcknowledged(t, a, state, ack)
	uploadAll(t, a, ack, 2)
	p.Kill(t)

	// 3. The uploads are checked; more uploads, then a clean stop right after.
	p = stacktest.StartProcess(t, state)
	a.base = p.Info.API
	checkAcknowledged(t, a, state, ack)
	uploadAll(t, a, ack, 1)
	p.Stop(t)

	// 4. A restart in this process: everything, once more.
	st := stacktest.Start(t, stacktest.WithStateDir(state))
	a.base = st.APIURL()
	checkAcknowledged(t, a, state, ack)
}

// uploadAll uploads n documents to every case with presigned POSTs and
// returns as soon as S3 has answered the last one.
func uploadAll(t *testing.T, a *app, ack acknowledged, n int) {
	t.Helper()
	for _, caseID := range ack.cases {
		for range n {
			content := uniqueScan()
			up := a.requestUpload(caseID, "business_license", "image/jpeg", len(content))
			if st, body := postFile(t, up, content); st/100 != 2 {
				t.Fatalf("presigned POST: %d %s", st, body)
			}
			ack.uploads[caseID] = append(ack.uploads[caseID], up["documentId"].(string))
		}
	}
}

// checkAcknowledged reads every acknowledged write back over HTTP and waits
// until every upload has a check result or a dead-letter record.
func checkAcknowledged(t *testing.T, a *app, state string, ack acknowledged) {
	t.Helper()
	var mine struct {
		Items []map[string]any `json:"items"`
	}
	a.must(200, "GET", "/v1/enterprises", nil).decode(t, &mine)
	if len(mine.Items) != len(ack.enterprises) {
		t.Errorf("GET /v1/enterprises lists %d profiles, %d were acknowledged", len(mine.Items), len(ack.enterprises))
	}
	for id, name := range ack.enterprises {
		if got := a.must(200, "GET", "/v1/enterprises/"+id, nil).obj(t)["name"]; got != name {
			t.Errorf("enterprise %s: name %v, want %s", id, got, name)
		}
	}
	for _, caseID := range ack.cases {
		a.getCase(caseID)
	}
	deadline := time.Now().Add(90 * time.Second)
	for caseID, docs := range ack.uploads {
		for _, docID := range docs {
			for {
				status := documentStatus(t, a, caseID, docID)
				if status != "pending" || deadLettered(t, state, caseID+"/"+docID) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("document %s of case %s still pending and not dead-lettered after a restart", docID, caseID)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
}

func documentStatus(t *testing.T, a *app, caseID, docID string) string {
	t.Helper()
	var page struct {
		Items []map[string]any `json:"items"`
	}
	a.must(200, "GET", "/v1/cases/"+caseID+"/documents", nil).decode(t, &page)
	for _, d := range page.Items {
		if d["id"] == docID {
			return d["check"].(map[string]any)["status"].(string)
		}
	}
	t.Fatalf("document %s of case %s is gone", docID, caseID)
	return ""
}

// deadLettered: the dead-letter folder holds the upload's event.
func deadLettered(t *testing.T, state, keySuffix string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(state, "dlq", "DocCheckFunction", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(b), keySuffix) {
			return true
		}
	}
	return false
}

// TestStacksSideBySide starts two stacks at once, each on its own free ports
// and state folder, ten times: neither may fail on a port the other took
// between choosing and binding it.
func TestStacksSideBySide(t *testing.T) {
	ownStack(t)
	root := stacktest.RepoRoot(t)
	for round := range 10 {
		var (
			wg     sync.WaitGroup
			stacks [2]*localstack.Stack
			errs   [2]error
			dirs   = [2]string{t.TempDir(), t.TempDir()}
		)
		for i := range 2 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				stacks[i], errs[i] = localstack.Start(ctx, localstack.Options{
					RepoRoot: root, StateDir: dirs[i], BinDir: stacktest.BinDir(root),
					APIAddr: "127.0.0.1:0", PoolSize: 1, DisableSchedules: true,
				})
			})
		}
		wg.Wait()
		for i, st := range stacks {
			if st != nil {
				defer st.Close()
			}
			if errs[i] != nil {
				t.Fatalf("round %d: stack %d: %v", round+1, i+1, errs[i])
			}
		}
		if stacks[0].APIURL() == stacks[1].APIURL() || stacks[0].S3URL() == stacks[1].S3URL() || stacks[0].DynamoDBURL() == stacks[1].DynamoDBURL() {
			t.Fatalf("round %d: the stacks share an address: %s %s", round+1, stacks[0].ReadyLine(), stacks[1].ReadyLine())
		}
		for i, st := range stacks {
			res, err := http.Get(st.APIURL() + "/v1/health")
			if err != nil {
				t.Fatalf("round %d: stack %d: %v", round+1, i+1, err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("round %d: stack %d health: %d %s\nfunction logs:\n%s", round+1, i+1, res.StatusCode, body, strings.Join(st.Logs(""), "\n"))
			}
		}
		for _, st := range stacks {
			if err := st.Close(); err != nil {
				t.Errorf("round %d: close: %v", round+1, err)
			}
		}
	}
}
