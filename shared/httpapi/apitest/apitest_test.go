package apitest_test

import (
	"bytes"
	"testing"
	"time"

	"microcert/shared/blob"
	"microcert/shared/httpapi/apitest"
)

// The harness's own journey: a case goes from registration to approval
// through the real routes, and the upload respects the presigned policy.
func TestJourney(t *testing.T) {
	e := apitest.New(t)
	_, caseID := e.SubmittedCase(apitest.Owner, "wecom", "official_account")
	c := e.Approve(apitest.Checker, caseID)
	if c["status"] != "approved" {
		t.Fatalf("case after approval: %v", c["status"])
	}
}

// The bucket takes an upload only as its presigned POST allows, as S3 does.
func TestBucketEnforcesThePolicy(t *testing.T) {
	e := apitest.New(t)
	entID := e.NewEnterprise(apitest.Owner)
	caseID := e.OpenCase(apitest.Owner, entID)
	content, ct := apitest.Content("business_license")
	up := e.Must(201, apitest.Request{Route: "POST /v1/cases/{caseId}/documents", Params: apitest.P("caseId", caseID),
		As: apitest.Owner, Body: map[string]any{"docType": "business_license", "contentType": ct, "contentLength": len(content)}})
	post := apitest.PostOf(t, up)
	max := int(up["maxBytes"].(float64))

	wrongType := post
	wrongType.Fields = map[string]string{"key": post.Fields["key"], "Content-Type": "application/pdf"}
	tests := []struct {
		name    string
		post    blob.PresignedPost
		content []byte
		after   time.Duration
		ok      bool
	}{
		{"over the size range", post, make([]byte, max+1), 0, false},
		{"empty", post, nil, 0, false},
		{"another content type", wrongType, content, 0, false},
		{"another key", blob.PresignedPost{URL: post.URL, Fields: map[string]string{"key": "uploads/x/y", "Content-Type": ct}}, content, 0, false},
		{"as allowed", post, content, 0, true},
		{"after the policy expired", post, content, time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Clock.Advance(tt.after)
			err := e.Bucket.Post(tt.post, tt.content)
			if (err == nil) != tt.ok {
				t.Fatalf("Post: %v, want ok %v", err, tt.ok)
			}
		})
	}
	// The download serves the copy the check made of what it read.
	if _, err := e.Check(post.Fields["key"]); err != nil {
		t.Fatal(err)
	}
	got, err := e.Bucket.Fetch(e.Must(200, apitest.Request{Route: "GET /v1/documents/{documentId}/download",
		Params: apitest.P("documentId", up["documentId"]), As: apitest.Owner})["url"].(string))
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("download: %d bytes, %v", len(got), err)
	}
}
