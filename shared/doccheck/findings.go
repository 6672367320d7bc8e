package doccheck

import (
	"fmt"
	"strings"

	"microcert/shared/domain"
)

// Finding codes. They are stable: the app switches on them and stores keep
// them, so change a message freely but never a code.
const (
	CodeUnknownDocType  = "unknown_doc_type"
	CodeEmpty           = "empty"
	CodeTooLarge        = "too_large"
	CodeUnsupportedType = "unsupported_type"
	CodeTypeNotAllowed  = "type_not_allowed"
	CodeTypeMismatch    = "type_mismatch"
	CodeUnreadable      = "unreadable"
	CodeImageTooSmall   = "image_too_small"
	CodeImageTooLarge   = "image_too_large"
	CodeBlurry          = "blurry"
	CodeTooDark         = "too_dark"
	CodeOverexposed     = "overexposed"
	CodePDFActive       = "pdf_active_content"
	CodePDFTooManyPages = "pdf_too_many_pages"
	CodePDFUnscannable  = "pdf_unscannable"
	CodeVideoTooShort   = "video_too_short"
	CodeVideoNoTrack    = "video_no_track"
	CodeTrailingData    = "trailing_data"
)

// Note codes: observations for the reviewer that do not fail the check.
const (
	// CodePDFLinks lists the web and mail links of a PDF.
	CodePDFLinks = "pdf_links"
	// CodeNearDuplicate names other enterprises' documents with nearly the
	// same picture.
	CodeNearDuplicate = "near_duplicate"
)

// NoteNearDuplicate is the reviewer's note about similar pictures.
func NoteNearDuplicate(documentIDs []string) domain.Finding {
	list := strings.Join(documentIDs, ", ")
	return finding(CodeNearDuplicate,
		"图像与其他企业上传的材料几乎相同（材料 "+list+"），可能经过重新压缩、缩放或裁剪，请核实是否冒用他人材料。",
		"The picture is nearly the same as documents uploaded by other enterprises ("+list+"), possibly re-encoded, resized or trimmed: check whether they were reused.")
}

// Each message says what went wrong and what the applicant should do next.

func finding(code, zh, en string) domain.Finding {
	return domain.Finding{Code: code, Message: domain.Text{Zh: zh, En: en}}
}

func findUnknownDocType(t domain.DocType) domain.Finding {
	return finding(CodeUnknownDocType,
		fmt.Sprintf("未知的材料类型 %q，请在应用中重新选择材料类型后上传。", t),
		fmt.Sprintf("Unknown document type %q; choose the document type again in the app and re-upload.", t))
}

func findEmpty() domain.Finding {
	return finding(CodeEmpty, "文件为空，请重新上传。", "The file is empty; upload it again.")
}

func findTooLarge(max int64) domain.Finding {
	return finding(CodeTooLarge,
		fmt.Sprintf("文件超过 %s 的大小上限，请压缩或降低分辨率后重新上传。", humanBytes(max)),
		fmt.Sprintf("The file is larger than the %s limit; compress it or lower the resolution and re-upload.", humanBytes(max)))
}

func findUnsupportedType(allowed []string) domain.Finding {
	return finding(CodeUnsupportedType,
		fmt.Sprintf("无法识别的文件格式，请上传以下格式之一：%s。", typeList(allowed)),
		fmt.Sprintf("The file format is not recognised; upload one of: %s.", typeList(allowed)))
}

func findTypeNotAllowed(real string, allowed []string) domain.Finding {
	return finding(CodeTypeNotAllowed,
		fmt.Sprintf("该材料不接受 %s 格式，请上传以下格式之一：%s。", typeName(real), typeList(allowed)),
		fmt.Sprintf("%s files are not accepted for this document; upload one of: %s.", typeName(real), typeList(allowed)))
}

func findTypeMismatch(real, declared string) domain.Finding {
	return finding(CodeTypeMismatch,
		fmt.Sprintf("文件内容是 %s，但上传时声明为 %q。请不要修改文件扩展名，以原始格式重新上传。", typeName(real), declared),
		fmt.Sprintf("The file is really %s but was uploaded as %q; do not rename the file, re-upload it in its original format.", typeName(real), declared))
}

func findUnreadable(real string) domain.Finding {
	return finding(CodeUnreadable,
		fmt.Sprintf("%s 文件已损坏或不完整，无法读取，请重新导出或重新拍摄后上传。", typeName(real)),
		fmt.Sprintf("The %s file is damaged or incomplete; export or capture it again and re-upload.", typeName(real)))
}

func findImageTooSmall(w, h, min int) domain.Finding {
	return finding(CodeImageTooSmall,
		fmt.Sprintf("图片分辨率过低（%d×%d），短边至少需要 %d 像素，请使用扫描仪或在光线充足处靠近拍摄原件。", w, h, min),
		fmt.Sprintf("The image resolution is too low (%dx%d); the shorter side needs at least %d pixels. Use a scanner, or photograph the original closer up in good light.", w, h, min))
}

func findImageTooLarge(w, h int, maxPixels int64) domain.Finding {
	return finding(CodeImageTooLarge,
		fmt.Sprintf("图片尺寸过大（%d×%d），无法检查，请降低分辨率（不超过 %d 万像素）后重新上传。", w, h, maxPixels/10_000),
		fmt.Sprintf("The image is too large to check (%dx%d); lower the resolution (to at most %.0f megapixels) and re-upload.", w, h, float64(maxPixels)/1e6))
}

func findBlurry() domain.Finding {
	return finding(CodeBlurry,
		"图片模糊，请使用扫描仪重新扫描，或将手机拿稳、对焦清楚后重新拍摄。",
		"The image is blurry; use a scanner, or hold the phone steady and focus before taking the photo again.")
}

func findTooDark() domain.Finding {
	return finding(CodeTooDark,
		"图片过暗，请在光线充足处重新拍摄或使用扫描仪。",
		"The image is too dark; take the photo again in good light, or use a scanner.")
}

func findOverexposed() domain.Finding {
	return finding(CodeOverexposed,
		"图片过亮、文字看不清，请避免闪光灯和强光直射后重新拍摄。",
		"The image is overexposed and the text is washed out; avoid flash and direct light and take the photo again.")
}

// findPDFEncrypted is an unreadable PDF whose advice is to remove the
// password: encrypted content cannot be checked.
func findPDFEncrypted() domain.Finding {
	return finding(CodeUnreadable,
		"PDF 文件已加密或设置了密码，请取消密码保护后重新上传。",
		"The PDF is encrypted or password-protected; remove the protection and re-upload.")
}

func findPDFActive(names []string) domain.Finding {
	return finding(CodePDFActive,
		fmt.Sprintf("PDF 含有脚本、自动操作或嵌入文件（%s），请使用“打印为 PDF”或扫描仪重新生成后上传。", strings.Join(names, " ")),
		fmt.Sprintf("The PDF contains scripts, automatic actions or embedded files (%s); recreate it with \"Print to PDF\" or a scanner and re-upload.", strings.Join(names, " ")))
}

func findPDFTooManyPages(pages, max int) domain.Finding {
	return finding(CodePDFTooManyPages,
		fmt.Sprintf("PDF 共 %d 页，超过 %d 页的上限，请只上传所需页面。", pages, max),
		fmt.Sprintf("The PDF has %d pages, more than the limit of %d; upload only the pages needed.", pages, max))
}

func findPDFUnscannable() domain.Finding {
	return finding(CodePDFUnscannable,
		"PDF 使用了无法检查的压缩结构，请使用“打印为 PDF”或扫描仪重新生成后上传。",
		"The PDF uses a compressed structure that cannot be checked; recreate it with \"Print to PDF\" or a scanner and re-upload.")
}

func findTrailingData(real string) domain.Finding {
	return finding(CodeTrailingData,
		fmt.Sprintf("%s 图片结束后还附带了其他数据（例如动态照片的视频或另一个文件）。请关闭“动态照片/实况”后重新拍摄，或使用扫描仪，然后重新上传。", typeName(real)),
		fmt.Sprintf("The %s image has other data appended after its end (such as a motion photo's video, or another file). Turn off motion/live photos and take the photo again, or use a scanner, then re-upload.", typeName(real)))
}

func findVideoTooShort(got, min float64) domain.Finding {
	return finding(CodeVideoTooShort,
		fmt.Sprintf("视频时长 %.1f 秒，至少需要 %.0f 秒，请完整拍摄办公场所后重新上传。", got, min),
		fmt.Sprintf("The video is %.1f seconds long; at least %.0f seconds are needed. Film the whole office again and re-upload.", got, min))
}

func findVideoNoTrack() domain.Finding {
	return finding(CodeVideoNoTrack,
		"文件中没有视频画面，请用手机相机录制办公场所视频后上传。",
		"The file has no video picture; record the office with the phone camera and upload that video.")
}

// typeName is how a content type is named to an applicant.
func typeName(ct string) string {
	switch ct {
	case TypeJPEG:
		return "JPEG"
	case TypePNG:
		return "PNG"
	case TypePDF:
		return "PDF"
	case TypeMP4:
		return "MP4"
	case TypeQuickTime:
		return "MOV"
	case "":
		return "?"
	}
	return ct
}

func typeList(cts []string) string {
	names := make([]string, len(cts))
	for i, ct := range cts {
		names[i] = typeName(ct)
	}
	return strings.Join(names, ", ")
}

func humanBytes(n int64) string {
	if n%mib == 0 {
		return fmt.Sprintf("%d MB", n/mib)
	}
	return fmt.Sprintf("%d bytes", n)
}
