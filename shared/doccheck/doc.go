// Package doccheck is the document-check engine: it reads one uploaded file
// (hostile input) as a stream and says whether it is fit for review, with
// findings that tell the applicant what to fix. It knows nothing of S3 or
// DynamoDB: the check function feeds it the object body and stores the
// result.
//
// Limits per document type are in one table (spec.go). The checks are:
// real type by magic bytes (sniff.go); image size, clarity and exposure
// (image.go, clarity.go); PDF structure and active content (pdf.go); video
// container and duration (video.go).
//
// # One file, one type
//
// A JPEG or PNG with data after its end marker (EOI, IEND) beyond 64 bytes
// fails trailing_data: a PDF or ZIP appended to a photo is a polyglot that
// other programs open as that other file. The image's structure (JPEG segments
// and entropy-coded data, PNG chunks) is followed as the bytes stream past, so
// an EXIF thumbnail's own EOI does not end the image; zero padding passes. The
// advice names motion/live photos, the common innocent cause.
//
// # PDFs are read as a reader reads them
//
// The parser (pdf*.go) follows startxref, classic xref tables and xref streams,
// hybrid files' /XRefStm, incremental updates through /Prev (the newest entry
// of an object wins, the last trailer's /Root), object streams, and the
// filters readers apply to them (Flate with PNG/TIFF predictors, LZW, ASCII85,
// ASCIIHex, RunLength; anything else on a structural stream is
// pdf_unscannable). A broken table is rebuilt from the object headers, as
// readers do. Then every object the file defines is inspected: those the table
// resolves to, and also superseded, unreferenced and hidden ones (inside
// another stream's data), since readers that repair a file or disagree about
// which definition wins may use any of them; the catalog's page tree gives the
// page count.
//
//   - Fails (pdf_active_content, one finding naming everything found):
//     JavaScript anywhere (/JS, /S /JavaScript, the /JavaScript name tree,
//     javascript: links), /Launch, /GoToR and /GoToE (a UNC path leaks Windows
//     credentials on click), /SubmitForm, /ImportData, /RichMedia, XFA,
//     embedded files (/EF with or without /Type /EmbeddedFile, the
//     /EmbeddedFiles tree), file-attachment annotations, 3D, renditions and
//     movies, non-empty /AA, an /OpenAction that is more than "show this
//     page", and links to other schemes than http, https and mailto (file:,
//     UNC paths, smb:).
//   - Passes: an /OpenAction destination ([page /Fit], a named destination, or
//     a plain GoTo: what LaTeX, Word and scanners write). Web and mail links
//     are a note for the reviewer (pdf_links, listing them), not a failure.
//   - Encrypted PDFs are unreadable, with the advice to remove the password;
//     so are files without a catalog or pages, or cut off (no startxref/%%EOF
//     at the end).
//   - Costs: the file (at most 10 MB) is read into one buffer; object streams
//     inflate within a 32 MB budget that is measured before anything is kept,
//     so a bomb is refused without holding its output. 50-page scan and 5 MB
//     text PDF: see BENCHMARKS.md.
//   - Why not pdfcpu (v0.15.0, the obvious library): on the same two files it
//     took 12 ms and 20 ms against this parser's 2.2 ms and 5 ms, allocated
//     12-21 MB on top of the file buffer (this parser allocates little beyond
//     it), rejected the text file over a font dictionary that readers open,
//     hides the raw structure the checks need (every definition, not only the
//     newest), and would add x/crypto, x/image, yaml and others to a 9 MB
//     function.
//   - Corpora: shared/doccheck/doccheckfixtures/pdfcorpus.go writes a hostile
//     corpus (30 files: the forms above, hidden in object streams behind
//     filter chains, in incremental updates, in a hybrid file's /XRefStm,
//     inside another stream's data, behind a broken xref, in an inline trailer
//     /Root, ...) and ordinary files as pdfTeX, Word (hybrid xref, tagged), a
//     scanner (JPEG pages, then an incremental update) and "Print to PDF"
//     write them. The files are kept under shared/doccheck/testdata/pdf
//     (-update-pdf-corpus rewrites them; qpdf --check and pdfinfo open the
//     ordinary ones) and are fuzz seeds of FuzzCheckPDF; FuzzDecodeStream
//     fuzzes the filters.
//
// # Near-duplicates
//
// The SHA-256 misses another enterprise's licence that was re-encoded,
// resized, trimmed or re-tagged. So every image also gets a perceptual hash
// (phash.go), computed from the grey plane the clarity check already
// builds (no second pass, about 1% more memory than the decode): the picture
// is trimmed to the bounding box of its ink on a 512 px thumbnail (so cutting
// blank margins changes nothing), resampled to 64x64 and transformed (DCT). A
// 255-bit hash (16x16 lowest frequencies) decides: at most 48 bits apart is
// the same picture. Business licences share one layout, which puts different
// licences only a few bits apart on the classic 64-bit pHash; on 255 bits they
// are at least 78 apart. A 63-bit hash (8x8) is the lookup key: split into
// four 16-bit bands, each a sparse GSI (PHashIndex0..3, projecting only id,
// caseId, enterpriseId and the hash). The check queries each band with its own
// value and the values with its two least certain bits flipped (multi-probe:
// 16 Queries, never a Scan), then measures the full distance on the
// candidates. Other enterprises' documents within the distance are recorded on
// the document and shown to reviewers as similarDocuments with a
// near_duplicate note. Measured on generated licences (BENCHMARKS.md): every
// re-encode (quality 50/95, PNG, greyscale), resize (50-200%), 2% and 5%
// margin crop, appended bytes and metadata change is found; no false positive
// among 9,900 lookups of distinct licences; about 1% of them are read as
// candidates. A crop that cuts into the text block itself (10%) is not found.
package doccheck
