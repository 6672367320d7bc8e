package config

import (
	"log/slog"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"microcert/shared/faults"
)

// Fault injection (shared/faults) is a TESTING AID: it makes a share of the
// DynamoDB and S3 calls fail with throttling, 5xx or timeouts, before or
// after the real call, to prove that the system recovers and never leaves
// half-applied state. It is OFF by default: only FAULT_RATE (0..1) turns it
// on, with FAULT_SEED, FAULT_KINDS, FAULT_AFTER and FAULT_OPS to tune it
// (see faults.FromEnv). The local stack's fault tests set these variables
// per test; template.yaml never sets them (a test in infra/e2e checks), so no
// deployed function injects faults.

var (
	faultsOnce sync.Once
	faultsInj  *faults.Injector
	faultsErr  error
)

// faultInjector is the process's injector, read once from the environment
// (nil when FAULT_RATE is unset). One injector serves both clients: one
// seeded sequence per process.
func faultInjector() (*faults.Injector, error) {
	faultsOnce.Do(func() {
		log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("component", "faults")
		var on bool
		faultsInj, on, faultsErr = faults.FromEnv(os.Getenv, log)
		if on {
			log.Warn("fault injection is ON (testing aid)", "rate", os.Getenv(faults.EnvRate),
				"seed", os.Getenv(faults.EnvSeed), "kinds", os.Getenv(faults.EnvKinds), "ops", os.Getenv(faults.EnvOps))
		}
	})
	return faultsInj, faultsErr
}

// checkFaults reports a malformed FAULT_* setting at Load, so that a test
// that means to inject faults never silently runs without them.
func checkFaults() error {
	_, err := faultInjector()
	return err
}

// dynamoDBFaults installs the injector on a DynamoDB client, if it is on.
func dynamoDBFaults() []func(*dynamodb.Options) {
	if inj, _ := faultInjector(); inj != nil {
		return []func(*dynamodb.Options){inj.DynamoDB}
	}
	return nil
}

// s3Faults installs the injector on an S3 client, if it is on.
func s3Faults() []func(*s3.Options) {
	if inj, _ := faultInjector(); inj != nil {
		return []func(*s3.Options){inj.S3}
	}
	return nil
}
