package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"microcert/infra/template"
)

// RunInfo is written to <StateDir>/stack.json while a stack runs, so that
// other commands (`make invoke`) use the running stack rather than start a
// second one on the same state.
type RunInfo struct {
	PID      int    `json:"pid"`
	API      string `json:"api"`
	S3       string `json:"s3"`
	DynamoDB string `json:"dynamodb"`
	Lambda   string `json:"lambda,omitempty"`
}

func runInfoPath(stateDir string) string { return filepath.Join(stateDir, "stack.json") }

// Running returns the stack running on stateDir, if any.
func Running(stateDir string) (RunInfo, bool) {
	b, err := os.ReadFile(runInfoPath(stateDir))
	if err != nil {
		return RunInfo{}, false
	}
	var ri RunInfo
	if json.Unmarshal(b, &ri) != nil || ri.PID <= 0 {
		return RunInfo{}, false
	}
	// Signal 0 checks the process exists; a stale file from a killed run is ignored.
	if err := syscall.Kill(ri.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return RunInfo{}, false
	}
	return ri, true
}

func writeRunInfo(stateDir string, ri RunInfo) error {
	b, _ := json.Marshal(ri)
	return os.WriteFile(runInfoPath(stateDir), b, 0o644)
}

func removeRunInfo(stateDir string) {
	if ri, ok := Running(stateDir); ok && ri.PID != os.Getpid() {
		return
	}
	_ = os.Remove(runInfoPath(stateDir))
}

// RunOnce invokes one function once through aws-lambda-rie and returns its
// answer. When a stack runs on o.StateDir the function works on that stack's
// DynamoDB and S3; otherwise a stack is started on the state for the call
// (schedules off) and stopped after it, which snapshots what the function changed.
func RunOnce(ctx context.Context, o Options, logicalID string, event []byte) ([]byte, error) {
	o = o.withDefaults()
	tpl, err := template.LoadRepo(o.RepoRoot)
	if err != nil {
		return nil, err
	}
	f, ok := tpl.Function(logicalID)
	if !ok {
		return nil, fmt.Errorf("no function %q in template.yaml", logicalID)
	}
	if ri, ok := Running(o.StateDir); ok {
		if err := os.MkdirAll(filepath.Join(o.StateDir, "logs"), 0o755); err != nil {
			return nil, err
		}
		logs, err := openLineLog(filepath.Join(o.StateDir, "logs", logicalID+".log"), 1000)
		if err != nil {
			return nil, err
		}
		defer logs.close()
		timeout := time.Duration(max(f.Timeout, 3)) * time.Second
		vars := LocalVars(f, ri.DynamoDB, ri.S3, ri.API, o.Env)
		if ri.Lambda != "" {
			// The jobs' fan-out runs on the running stack.
			vars["AWS_ENDPOINT_URL_LAMBDA"] = ri.Lambda
		}
		fn := newFunction(logicalID, filepath.Join(o.ToolsDir, "aws-lambda-rie"), o.BinDir,
			lambdaEnv(f, vars, os.Getenv("PATH")), timeout, 1, logs, o.Logger)
		if err := fn.start(ctx, 1); err != nil {
			return nil, err
		}
		defer fn.stop()
		return fn.invoke(ctx, newRequestID(), event)
	}
	o.APIAddr = "127.0.0.1:0"
	o.DisableSchedules = true
	o.PoolSize = 1
	o.PoolSizes = nil
	st, err := Start(ctx, o)
	if err != nil {
		return nil, err
	}
	out, err := st.Invoke(ctx, logicalID, event)
	// What the invoke queued (the jobs' fan-out) finishes before the
	// stack stops.
	err = errors.Join(err, st.WaitAsync(ctx))
	return out, errors.Join(err, st.Close())
}
