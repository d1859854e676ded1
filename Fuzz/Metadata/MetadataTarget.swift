import YoloCore

/// libFuzzer entry for what swiftyolo reads from a model it is given: the export's
/// `config.txt` (ModelMetadata.parse, on the text as TorchModel hands it over: up to the first
/// NUL) and a labels file (ClassLabels.parseLabelsFile) on the same bytes, then the choice of
/// names (ClassLabels.resolve) for a few class counts.
///
/// Beyond "no crash": what parses is within the limits (sides and stride 1…4096, at most
/// 10000 names), what does not is a ParseError that names config.txt; labels are trimmed,
/// non-empty and one line each; resolve gives one name per class or says why not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMetadata(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    var names: [String]? = nil
    do {
        let metadata = try ModelMetadata.parse(text)
        if let (width, height) = metadata.inputSize {
            check((1...ModelMetadata.maxInputSide).contains(width) && (1...ModelMetadata.maxInputSide).contains(height),
                  "imgsz \(width)×\(height) accepted from \(describe(text))")
        }
        if let stride = metadata.stride {
            check((1...ModelMetadata.maxInputSide).contains(stride), "stride \(stride) accepted from \(describe(text))")
        }
        names = metadata.names
        check((names?.count ?? 0) <= ModelMetadata.maxClasses, "\(names?.count ?? 0) names accepted from \(describe(text))")
    } catch let error as ModelMetadata.ParseError {
        check(error.description.hasPrefix("config.txt"), "a refusal that does not name config.txt: \(error) (input \(describe(text)))")
    } catch {
        fatalError("not a ParseError: \(error) (input \(describe(text)))")
    }

    let labels = ClassLabels.parseLabelsFile(String(decoding: bytes, as: UTF8.self))
    for label in labels {
        check(!label.isEmpty, "an empty label")
        check(![" ", "\t", "\r"].contains(label.first!) && ![" ", "\t", "\r"].contains(label.last!),
              "label \(describe(label)) keeps surrounding space")
        check(!label.unicodeScalars.contains { $0 == "\n" || $0 == "\r" }, "label \(describe(label)) spans lines")
    }

    for classCount in Set([names?.count ?? 0, labels.count, 80, size % 97]) {
        for labelsFile in [nil, (path: "labels.txt", names: labels)] {
            do {
                let resolved = try ClassLabels.resolve(classCount: classCount, metadataNames: names, labelsFile: labelsFile)
                check(resolved.count == classCount, "\(resolved.count) names for \(classCount) classes")
                if let labelsFile { check(resolved == labelsFile.names, "the labels file was not used") }
            } catch let error as ClassLabels.Mismatch {
                check(labelsFile != nil && labels.count != classCount, "refused without a mismatch: \(error)")
                check(error.description.hasPrefix("labels.txt: "), "a mismatch that does not name the file: \(error)")
            } catch {
                fatalError("not a Mismatch: \(error)")
            }
        }
    }
    return 0
}

/// Text for a failure message, short enough for a log.
func describe(_ text: String) -> String {
    let shown = String(text.unicodeScalars.prefix(200)).debugDescription
    return text.unicodeScalars.count > 200 ? "\(shown)… (\(text.utf8.count) bytes)" : shown
}
