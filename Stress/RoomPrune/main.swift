// The video server alone, for scripts/stress.sh: built with AddressSanitizer, it serves on
// the address given (ports picked free, the RTSP one printed) until its standard input
// closes, forgetting rooms nobody feeds after a fifth of a second (60 s in `chatcast serve`),
// so that Tests/interop/room_prune_load.py can prune rooms while viewers still ask for them.
import ChatCastRTSP
import Foundation

let arguments = CommandLine.arguments
var settings = RTSPServer.Settings()
settings.address = arguments.count > 1 ? arguments[1] : "127.0.0.1"
settings.port = 0
settings.idleRoomSeconds = 0.2
settings.maxRooms = 16
let server = try RTSPServer(settings: settings)
try server.start()
print("listening \(server.port)")
fflush(nil)  // every stream: the port line must reach the driver now
while readLine() != nil {}
server.stop()
