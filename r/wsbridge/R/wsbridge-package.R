#' wsbridge: read live sensor streams from a wsbridge serial port
#'
#' \code{wsbridge sink --url ws://HOST:8080/ws --virtual /tmp/ttyESP32}
#' writes an ESP32's live stream into a virtual serial port on this
#' machine; this package reads it into data frames as fast as it comes.
#'
#' \itemize{
#'   \item \code{\link{wsbridge_open}}: open the port (base R by default,
#'     or the CRAN \code{serial} package).
#'   \item \code{\link{wsbridge_read}}: the next rows, as a data frame.
#'   \item \code{\link{wsbridge_stream}}: call a function per block of rows.
#'   \item \code{\link{wsbridge_events}}, \code{\link{wsbridge_gaps}}:
#'     where a block has holes (the sink's gap and restart lines), and the
#'     device's replies.
#'   \item \code{\link{wsbridge_send}}: send a command to the device.
#'   \item \code{\link{wsbridge_parse}}: parse lines you read yourself.
#'   \item \code{\link{wsbridge_serial_name}}: the name the \code{serial}
#'     package needs for a path.
#' }
#'
#' @keywords internal
"_PACKAGE"
