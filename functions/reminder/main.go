// Command reminder is a placeholder Lambda that logs the event it receives; the
// real handler replaces it.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	lambda.Start(func(ctx context.Context, ev json.RawMessage) (map[string]string, error) {
		log.Info("event", "function", "reminder", "event", ev)
		return map[string]string{"status": "ok"}, nil
	})
}
