// Package holidays keeps the working-day calendar current without a
// release. The built-in data (lunar-go, domain.BuiltinCalendar) ends with
// the last year the library knows; each autumn the State Council publishes
// the next year's holiday schedule, and an operator transcribes it into a
// JSON document in the documents bucket under Key. The functions read that
// document on top of the built-in data, cache the result, and read it
// again every Refresh (the expiry job at the start of every run), so an
// upload is in force everywhere within minutes.
//
// The document (the operator's procedure is README's "Working-day calendar"):
//
//	{
//	  "source": "国办发明电〔2027〕N号",
//	  "years": [
//	    {"year": 2028,
//	     "holidays": ["2028-01-01", "2028-01-25", ...],
//	     "workdays": ["2028-01-22", ...]}
//	  ]
//	}
//
// A listed year replaces what the built-in data says about it (so a
// correction of a covered year is possible too); the years after the
// built-in data must follow it without a gap. The document is decoded
// strictly (shared/strictjson) and checked by domain.Calendar.Extend.
//
// Nothing here ever fails a request: a missing document means the built-in
// data; an unreadable or invalid one is logged (alarm calendar_invalid or
// calendar_unavailable) and the calendar in force is kept.
//
// # Why an object in the bucket
//
// It is a plain file an operator edits, checks (go run ./infra/calendar)
// and uploads with everyday tools and keeps in version control; both
// functions that count working days already read that bucket (ExpiryFunction
// may read this one key only); it has no size limit worth mentioning (an
// SSM String parameter stops at 4 KB); DynamoDB items would need
// DynamoDB-JSON or a tool of our own; and the local stack serves the bucket
// as AWS does, so the whole procedure runs end to end in the tests
// (TestCalendarAsData). The bucket notifies the document check only for
// uploads/ and its lifecycle rule deletes only objects tagged for
// retention: the document triggers nothing and is never deleted.
//
// # Past the known range
//
// A submission never fails. When the review deadline's working days run
// past the data, the unknown days count weekends-only and the deadline gets
// domain.UnknownDaysMargin more working days (the most weekdays any holiday
// period of the built-in years took out of such a window), so a provisional
// deadline is never earlier than the real one. The case shows
// reviewDueProvisional and stores a recheck time, which makes it due on
// DueIndex: from the next day the expiry job recomputes it on the calendar
// in force, still provisional (review_due_provisional) or final
// (review_due_settled, possibly earlier), and checks the SLA against the
// final deadline in the same write.
//
// Every run of the expiry job reports calendar_days_left (the days from
// its Beijing day to the last day the data covers); an alarm on it fires
// below 90 days, in time for the State Council's notice.
package holidays
