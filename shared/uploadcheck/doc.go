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
// # What is reviewed is what was checked
//
//   - Uploads only while a document can change (Case.AcceptsUpload): in a
//     draft, or after a request for changes that names the document's type.
//     Otherwise POST .../documents is 409 case_not_editable (submitted,
//     closed) or 409 document_frozen (sent back, but not for this document).
//   - Short-lived, single-purpose forms: each presigned POST is valid for 5
//     minutes and pins one key (uploads/{caseId}/{documentId}, a new document
//     id per request), the content type and the size range.
//   - The checked bytes are copied out of the forms' reach: the check reads
//     the upload, and copies it server-side, only if its ETag is still that of
//     the bytes read (CopyObject + x-amz-copy-source-if-match), to
//     checked/{caseId}/{documentId}/{sequencer}, a prefix no form can write
//     and no notification watches. The document records that key (checkedKey)
//     with the SHA-256 of the same bytes. A re-post that lands while a check
//     runs makes the copy fail (412): that check records nothing and the newer
//     upload's own event checks the new bytes. One key per checked upload
//     means a check that loses its race never overwrites the copy another one
//     recorded; a copy nobody recorded is deleted.
//   - Downloads serve exactly that object: GET /v1/documents/{id}/download
//     signs the checked copy, never the upload key (409 document_not_checked
//     before a check has read the upload).
//   - Late uploads change nothing: an upload whose document is frozen (a form
//     re-posted after submission, or after approval) is not checked; it is
//     recorded as an audit entry (document.late_upload, named by the event's
//     sequencer, so a redelivery records it once), tagged check=late, and
//     deleted by the bucket's lifecycle: every object under uploads/ expires
//     after 7 days (only checked/ copies are kept, until retention tags them
//     retention=expire). A case submitted while one of its uploads was being
//     checked makes that check late as well (its commit re-reads the case).
//   - Approval against the facts at decision time: a document that failed, or
//     anything else due, refuses approval with 409 requirements_unmet.
//   - Bucket versioning: not used. Versioning would keep every re-posted
//     version, but a late upload would become the current version, so the
//     lifecycle could only delete it by tag, and versions replaced while a
//     case is still a draft would need a tag each too, written after the
//     result that replaced them (a lost write leaves them forever). With
//     copies, the upload prefix simply expires. versitygw's option was checked
//     anyway (v1.8.0, posix --versioning-dir DIR, plus PutBucketVersioning):
//     presigned POSTs then create versions and return x-amz-version-id;
//     GetObject, PutObjectTagging and presigned GETs honour versionId;
//     ListObjectVersions lists them: the same as S3 for everything this design
//     would need. Its CopyObject honours x-amz-copy-source-if-match (412
//     PreconditionFailed on a changed source), which this design does use.
//
// The outcomes are tested in process on the harness (outcome_test.go).
package uploadcheck
