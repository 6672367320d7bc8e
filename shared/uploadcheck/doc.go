// Package uploadcheck is the document-check use case (DocCheckFunction):
// for each S3 upload event under uploads/{caseId}/{documentId} it finds the
// document, checks the object with shared/doccheck, flags content reused by
// another enterprise, records exactly one result per object version, tags
// the object, and moves the case's version so apps see the new requirements
// on their next read.
//
// The check reads the object's metadata first (a file over its type's
// limit fails without its body being read), then streams the body through
// shared/doccheck: the real type from magic bytes (a mismatch with the
// declared type fails), image dimensions before any decode (a PNG declaring
// 50000x50000 is refused from its header), clarity and exposure, PDF
// structure and active content, video duration, and the SHA-256 of the
// content. The same content already used by another enterprise is flagged
// for the reviewer (HashIndex, never a Scan) without failing the document.
// The result (status, findings with zh/en advice, metrics) is written to
// the document with the case in one transaction.
//
// Events arrive at least once, possibly concurrently and out of order. The
// S3 sequencer orders events of one key (NormalizeSequencer makes it a
// fixed-width string): a result is only stored when its sequencer is
// greater than the stored one (a conditional write), so duplicates and
// stale events change nothing. A failure worth retrying (the table or the
// bucket unavailable) is returned for Lambda's retries, after which the
// event waits in the dead-letter queue for a redrive; a result whose own
// write's answer was lost counts as recorded. Events the check has no
// business with (other keys, unknown documents, closed cases) are ignored
// without a retry.
//
// The outcomes are tested in process on the harness (outcome_test.go).
package uploadcheck
