// Package store is microcert's persistence: one DynamoDB table (template.yaml,
// resource Table) holding every entity, read only by GetItem and Query (never
// Scan, but in the operator's one-off BackfillEnterpriseItems), written by conditional single writes or one TransactWriteItems per
// domain.Change. Item shapes are private (one file per entity, with an item
// struct, key builders and to/from conversions); the domain package knows
// nothing of them.
//
// # Table
//
// Key pk (S, HASH) and sk (S, RANGE). Global secondary indexes, all
// projecting ALL but the PHashIndexes, and all sparse (an item carries an index's attributes only
// while it belongs there; writes that change membership rebuild the whole
// item, so the attributes disappear with the state that called for them):
//
//	GSI1         gsi1pk / gsi1sk   a user's memberships, enterprise's cases, documents by id
//	QueueIndex   qpk / qsk         the reviewers' queue
//	DueIndex     duepk / duesk     scheduled work: cases and certifications by due time
//	RemindIndex  rpk / rsk         renewal reminders by due time
//	HashIndex    hpk / hsk         documents by content hash
//	PHashIndex0..3  ph0..ph3 / phsk  image documents by perceptual-hash band (projects id, caseId, enterpriseId, phash)
//
// TTL attribute ttl (epoch seconds). Times inside sort keys use the
// fixed-width UTC layout 2006-01-02T15:04:05.000000000Z, so keys sort in time
// order; other time attributes are RFC 3339 UTC strings. Ids are the
// domain's ULID-shaped ids.
//
// # Items
//
//	item                  pk                  sk                              index attributes (while ...)
//	enterprise profile    ENT#<id>            A#PROFILE                       -
//	member                ENT#<entId>         A#MEMBER#<userId>               gsi1 MEMBER#<userId> / <joinedAt>#<entId>
//	invitation            ENT#<entId>         A#INVITE#<invId>                - (ttl a day after it expires)
//	USCC claim            USCC#<uscc>         USCC                            - (disputeCaseId: the lock of a dispute in review)
//	certification         ENT#<entId>         B#CERT#<type>                   due CERT#<shard> / <next transition>#<entId>#<type> (active: expiry; overdue: lapse)
//	                                                                          remind REMIND#<shard> / <remindAt>#<entId>#<type> (RemindAt set; shards.go)
//	open-case slot        ENT#<entId>         B#OPEN#<type|profile>           - (one open case per type; see perenterprise.go)
//	deposit log           ENT#<entId>         A#DEPOSITS                      - (versioned: deposits started, lock cool-down)
//	certification history ENT#<entId>         H#<at>#<id>                     -
//	notification          ENT#<entId>         N#<at>#<id>                     due OUTBOX#<0..3> / <at>#N#<entId>#<id> (until fanned out: the outbox, outbox.go)
//	delivery              ENT#<entId>         O#<deliveryId>                  due OUTBOX#<0..3> / <next attempt>#O#... (pending); gsi1 HOOKDEL#<endpointId> (webhooks); ttl
//	webhook endpoint      ENT#<entId>         W#<id>                          - (versioned)
//	read mark             ENT#<entId>         NR#<userId>#<notificationId>    -
//	reminder mark         ENT#<entId>         R#<type>#<cycle>#<milestone>    - (ttl 2 years)
//	case                  CASE#<id>           A#CASE                          gsi1 ENTCASES#<entId> / <createdAt>#<id>
//	                                                                          q QUEUE / <reviewDueAt>#<id> (submitted, in_review)
//	                                                                          due CASE / <PendingWorkAt>#<id> (work pending)
//	document              CASE#<caseId>       D#<docId>                       gsi1 DOC#<docId> / DOC
//	                                                                          h SHA#<hex> / <entId>#<docId> (hash known); ttl (marked for deletion)
//	case history          CASE#<caseId>       H#<at>#<id>                     -
//	payout (bank outbox)  CASE#<caseId>       P#<at>                          gsi1 PAYOUTS#<Beijing day> / <at>#<id>
//	refund                CASE#<caseId>       F#<id>                          gsi1 REFUNDS / <createdAt>#<id>
//	                                                                          due REFUND / <nextAttemptAt>#<caseId>#<id> (pending)
//	ledger entry          CASE#<caseId>       L#<id>                          gsi1 LEDGER#<Beijing day of the movement> / <at>#<id>
//	discrepancy           DISC#<id>           DISC                            gsi1 DISCREPANCIES / <day>#<id>
//	subsidy line          SUBSIDY#<month>     <program>#<caseId>#<kind>       -
//	admin audit           AUDIT#<day>         U#<at>#<id>                     -
//	audit (download,      CASE#<caseId>       U#<at>#<id>                     -
//	  identifier reveal,
//	  refund retry)
//	ref                   REF#<kind>#<id>     REF                             - (ttl ExpiresAt + 1 day)
//	idempotency           IDEM#<key>          IDEM                            - (ttl ExpiresAt)
//
// PIPL: the legal representative's ID number and phone are stored (the
// reviewers need them) and never logged; this package logs nothing. The
// micro-deposit amount is stored in the clear only in the payout item (what
// the bank must pay); the case holds its HMAC.
//
// # Access patterns
//
//	access pattern                          method                     key / index                                                  reads
//	enterprise state (profile, certs,       GetEnterpriseState         Query pk=ENT#<id>, sk BETWEEN A# AND B#~, consistent         1 Query
//	  open-case slots, deposit log,
//	  members, invitations)
//	states as one user sees them, by key    GetEnterpriseStatesAs      BatchGetItem profile, deposit log, certs, slots, own member  1 BatchGetItem
//	a user's memberships                    ListMemberships            GSI1 gsi1pk=MEMBER#<userId>, in the order joined, paged      1 Query
//	profiles by id                          GetEnterprises             BatchGetItem ENT#<id> / A#PROFILE                            1 BatchGetItem
//	cases by id                             GetCases                   BatchGetItem CASE#<id> / A#CASE, consistent                  1 BatchGetItem
//	who holds a USCC                        GetUSCCClaim               GetItem USCC#<uscc> / USCC, consistent                       1 GetItem
//	an enterprise's history, newest first   ListEnterpriseHistory      Query pk=ENT#<id>, sk begins_with H#, backwards, paged       1 Query
//	one certification                       GetCertification           GetItem ENT#<entId> / B#CERT#<type>, consistent              1 GetItem
//	certifications due to expire or lapse   DueCertifications          DueIndex duepk=CERT#<shard>, duesk <= <before>#~, paged      1 Query per shard, due items only
//	renewal reminders due                   RemindersDue               RemindIndex rpk=REMIND#<shard>, rsk <= <before>#~, paged     1 Query per shard, due items only
//	notifications, newest first             ListNotifications          Query pk=ENT#<id>, sk begins_with N#, backwards, paged       1 Query
//	the outbox of one shard, due items      DueOutbox                  DueIndex duepk=OUTBOX#<n>, duesk <= <now>#~                  1 Query, due items only
//	a notification by id                    FindNotification           Query pk=ENT#<id>, sk BETWEEN N#<id's ms> AND N#<ms+1>       1 Query
//	a page's reader and read marks          InboxState                 BatchGetItem profile, own member, NR#<userId>#<id>           1 BatchGetItem
//	an endpoint and its manager             EndpointState              BatchGetItem profile, own member, W#<id>                     1 BatchGetItem
//	an enterprise's webhook endpoints       WebhookEndpoints           Query pk=ENT#<id>, sk begins_with W#, consistent             1 Query
//	an endpoint's deliveries, newest first  ListEndpointDeliveries     GSI1 gsi1pk=HOOKDEL#<endpointId>, backwards, paged           1 Query
//	one case                                GetCase                    GetItem CASE#<id> / A#CASE, consistent                       1 GetItem
//	case view (case, docs, refunds, hist.)  GetCaseBundle              Query pk=CASE#<id>, sk BETWEEN A# AND H#~, consistent        1 Query (+ pages)
//	an enterprise's cases, newest first     ListCases                  GSI1 gsi1pk=ENTCASES#<entId>, backwards, paged               1 Query
//	reviewers' queue, earliest due first    ListQueue                  QueueIndex qpk=QUEUE, paged                                  1 Query
//	cases with pending work                 DueCases                   DueIndex duepk=CASE, duesk <= <before>#~, paged              1 Query, due items only
//	one document of a case                  GetDocument                GetItem CASE#<caseId> / D#<docId>, consistent                1 GetItem
//	a document by id (download)             FindDocument               GSI1 gsi1pk=DOC#<docId>, gsi1sk=DOC                          1 Query
//	same content uploaded elsewhere         FindDocumentsByHash        HashIndex hpk=SHA#<hex>                                      1 Query (+ pages)
//	similar pictures elsewhere              FindDocumentsByPHashBand   PHashIndex<b> ph<b>=<band key>, per probe key                1 Query per key (+ pages)
//	downloads and reveals of a case (audit) ListAudit                  Query pk=CASE#<id>, sk begins_with U#, consistent            1 Query (+ pages)
//	certification history (appeal context)  EnterpriseHistory          Query pk=ENT#<id>, sk begins_with H#, consistent             1 Query (+ pages)
//	micro-deposit payouts of a case         Payouts                    Query pk=CASE#<id>, sk begins_with P#, consistent            1 Query (+ pages)
//	refunds due (refund job)                RefundsDue                 DueIndex duepk=REFUND, duesk <= <before>#~, paged            1 Query, due items only
//	one refund                              GetRefund                  GetItem CASE#<caseId> / F#<id>, consistent                   1 GetItem
//	refunds, newest first (admins)          ListRefunds                GSI1 gsi1pk=REFUNDS (createdAt range), matched in code       1+ Query
//	a case's ledger                         CaseLedger                 Query pk=CASE#<id>, sk begins_with L#, consistent            1 Query (+ pages)
//	a day's ledger (reconciliation)         LedgerForDay               GSI1 gsi1pk=LEDGER#<day>                                     1 Query (+ pages)
//	a day's payouts (reconciliation)        PayoutsForDay              GSI1 gsi1pk=PAYOUTS#<day>                                    1 Query (+ pages)
//	discrepancies (admins)                  ListDiscrepancies          GSI1 gsi1pk=DISCREPANCIES (day range), matched in code       1+ Query
//	one discrepancy                         GetDiscrepancy             GetItem DISC#<id> / DISC, consistent                         1 GetItem
//	a month's subsidy lines                 SubsidyEntries             Query pk=SUBSIDY#<month>, consistent                         1 Query (+ pages)
//	admin actions of a day                  ListAdminAudit             Query pk=AUDIT#<day>, sk begins_with U#, consistent          1 Query (+ pages)
//	provider id (session, order) -> case    ResolveRef                 GetItem REF#<kind>#<id> / REF, consistent                    1 GetItem
//	what an order asks to be paid           OrderPayable               ResolveRef, then GetCase                                     2 GetItem
//	idempotency reservation                 Reserve/Complete/Release   PutItem / UpdateItem / DeleteItem IDEM#<key> / IDEM         -
//	idempotency record without reservation  Record/LookupIdempotency   PutItem (conditional) / GetItem IDEM#<key> / IDEM, consistent -
//	USCC uniqueness                         Commit                     Put USCC#<uscc> / USCC, attribute_not_exists, in the create  -
//	a read's membership (download audit)    Commit                     ConditionCheck ENT#<entId> / A#MEMBER#<userId>, role IN      -
//
// Index reads are eventually consistent (a case just created may be missing
// from ListCases for a moment); single-entity reads are strongly consistent.
//
// # Writes and conflicts
//
// Commit(ctx, change) writes a domain.Change atomically with one
// TransactWriteItems (at most 100 writes; a Change of one write and no
// idempotency mark uses PutItem / UpdateItem). Versioned entities
// (enterprise, case, certification, refund, discrepancy) are created with attribute_not_exists(pk)
// and replaced as a whole under version = :expected (the entity carries
// expected+1). History, notifications, audits, payouts, refs and reminder
// marks are puts under attribute_not_exists(pk). A document check result
// replaces the document under "seq absent or seq < the new sequencer" (plus
// "not superseded or scheduled for deletion since it was read"); other
// document writes set only the API's attributes. When ctx carries an
// idem.Mark, the transaction also flips IDEM#<key> from in_progress to
// applied under token = :token, or (a mark without a reservation,
// idem.Mark.Create) puts it on condition that the key is free, so a
// request's side effect commits at most once.
//
// Memberships are created under attribute_not_exists(pk), replaced or
// deleted under their version; invitations likewise. A USCC claim is
// updated (SET only) to take a dispute's lock (on condition that the
// expected profile holds it and no other dispute holds the lock: else
// dispute_open), give it up, or move it to the dispute's winner. A member
// check is a ConditionCheck; when it fails the Change is not_found.
//
// A failed condition is a domain.KindConflict error with one of these codes:
//
//	request_already_applied  the idempotency mark is not ours and in progress any more, or the key of a mark
//	                         without a reservation is not free (ErrRequestAlreadyApplied)
//	enterprise_exists        the USCC of a new profile is already claimed (ErrEnterpriseExists)
//	version_conflict         a stale version; a create whose item exists; an update of a document that does not exist (domain.ErrVersionConflict)
//	duplicate                an append-only record or reminder mark written twice; a check result of the same or an
//	                         older S3 event, or for a document superseded or scheduled for deletion since (ErrDuplicate)
//	reservation_lost         CompleteIdempotency / ReleaseIdempotency with a token that no longer holds the key (ErrReservationLost)
//
// When several conditions fail, the idempotency mark wins (it is the first
// write), then the first failing write of the Change. A TransactionConflict
// on a versioned write is version_conflict (a concurrent writer won). Other
// errors: throttling, 5xx, timeouts and transport failures are
// KindUnavailable "unavailable" (retry later); absent items are
// domain.ErrNotFound; a malformed Change is KindInternal.
//
// # Lists
//
// Paged lists take domain.Page: Limit goes to the Query as is (the caller
// validates 1..100; 0 means 20), so a page may come back short, and the last
// full page may be followed by an empty one. The cursor is the URL-safe
// base64 of the LastEvaluatedKey's attributes; it is not signed but it is
// validated (it must decode, hold exactly the key attributes of that list's
// index, name the queried partition and look like an item of that list),
// else KindInvalid "invalid_cursor" (ErrInvalidCursor) without any read. An
// empty NextCursor means the list is done.
//
// # Tests
//
// The tests run the real SDK client over HTTP against minidyn (storetest),
// with the table built from template.yaml. minidyn v0.8.2 ignores top-level
// REMOVE in update expressions and corrupts a non-empty GSI when UpdateItem
// adds an item to it; the store never relies on either (index membership
// changes are whole-item puts).
package store
