/// A failed fuzz check: unlike `precondition`, whose message -O drops, the message reaches
/// the log next to libFuzzer's crash report.
@inline(never)
func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError(message()) }
}
