package localstack

import (
	"errors"
	"io"
	"net/http"
	"strings"
)

// lambdaAPI is the part of Lambda's Invoke API the functions call: the jobs
// fan a day's work out by invoking themselves asynchronously
// (shared/selfinvoke). POST /2015-03-31/functions/{name}/invocations with
// X-Amz-Invocation-Type Event queues the invoke like Lambda does (two
// retries, see invokeAsync) and answers 202; RequestResponse (the default)
// runs it and answers its payload. Names are the template's logical ids (the
// local AWS_LAMBDA_FUNCTION_NAME); an ARN's last segment counts.
func (s *Stack) lambdaAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if i := strings.LastIndex(name, ":function:"); i >= 0 {
			name = strings.SplitN(name[i+len(":function:"):], ":", 2)[0]
		}
		if _, ok := s.fns[name]; !ok {
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
			http.Error(w, `{"Type":"User","message":"Function not found: `+name+`"}`, http.StatusNotFound)
			return
		}
		payload, err := io.ReadAll(io.LimitReader(r.Body, 256<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch r.Header.Get("X-Amz-Invocation-Type") {
		case "Event":
			s.invokeAsync(name, payload)
			w.WriteHeader(http.StatusAccepted)
		case "", "RequestResponse":
			out, err := s.Invoke(r.Context(), name, payload)
			var fe *FunctionError
			switch {
			case errors.As(err, &fe):
				w.Header().Set("X-Amz-Function-Error", "Unhandled")
				out = fe.Payload
			case err != nil:
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(out)
		default:
			http.Error(w, `{"message":"X-Amz-Invocation-Type must be Event or RequestResponse locally"}`, http.StatusBadRequest)
		}
	})
	return mux
}
