#' Open the port that wsbridge sink writes
#'
#' Opens the virtual serial port (\code{sink --virtual PATH}: the link or
#' the \code{/dev/pts/N} name) or a real one, the way that keeps up with a
#' fast stream, and returns a port object for \code{\link{wsbridge_read}},
#' \code{\link{wsbridge_stream}} and \code{\link{wsbridge_send}}. Close it
#' with \code{close()}.
#'
#' \code{via = "file"} (the default, base R) opens
#' \code{file(port, "r", raw = TRUE, blocking = FALSE)}: \code{readLines}
#' on it reads over a million lines per second. Without \code{raw = TRUE} R
#' treats the tty as a file and may stall.
#'
#' \code{via = "serial"} opens it through the CRAN \code{serial} package,
#' the way that keeps up: \code{translation = "binary"} and
#' \code{read.serialConnection(con, n = 4096)}, lines split here (its
#' default \code{translation = "auto"} glues lines together and stops
#' returning above a few thousand lines per second). The \code{serial}
#' package prefixes \code{/dev/} to every name; \code{wsbridge_open} passes
#' it \code{\link{wsbridge_serial_name}(port)}, so the link made by
#' \code{sink --virtual /tmp/ttyESP32} works too (as
#' \code{"../tmp/ttyESP32"}).
#'
#' A port opened mid-stream can start in the middle of a line (another
#' reader took its beginning), so the first line read after opening is
#' dropped when it is a data line (\code{skip_partial = TRUE}), and a
#' \code{"skipped"} event shows it. Header and \code{#} lines are kept.
#'
#' The port object remembers the column names (from a \code{--header}
#' line) and any partial line between reads. When \code{port} is a link
#' and the sink is restarted (a new \code{/dev/pts/N} behind the same
#' link), reads notice that the port went quiet and moved, reopen it, and
#' say so with a \code{"reopen"} event (see \code{\link{wsbridge_events}}).
#'
#' @param port path of the port: the \code{--virtual} link (stays the same
#'   across sink restarts) or the \code{/dev/pts/N} name the sink prints.
#' @param via \code{"file"} (base R, fastest) or \code{"serial"} (the CRAN
#'   \code{serial} package).
#' @param mode the serial mode for \code{via = "serial"},
#'   \code{"BAUD,PARITY,DATABITS,STOPBITS"}; a virtual port ignores it.
#' @param timestamps \code{TRUE} when the sink runs with
#'   \code{--timestamps} (the first column is then \code{t_us} when no
#'   header names it).
#' @param skip_partial drop the first line read after opening when it is a
#'   data line (it may be the end of a line cut in two); \code{FALSE} for
#'   a file that starts with complete lines.
#' @return A \code{wsbridge_port} object.
#' @seealso \code{\link{wsbridge_read}}, \code{\link{wsbridge_stream}}
#' @examples
#' \dontrun{
#' con <- wsbridge_open("/tmp/ttyESP32")
#' d <- wsbridge_read(con, n_max = 16000, timeout = 2)
#' close(con)
#'
#' con <- wsbridge_open("/tmp/ttyESP32", via = "serial")  # the CRAN serial package
#' }
#' @export
wsbridge_open <- function(port, via = c("file", "serial"), mode = "921600,n,8,1",
                          timestamps = FALSE, skip_partial = TRUE) {
  via <- match.arg(via)
  if (!is.character(port) || length(port) != 1L || !nzchar(port)) {
    stop("wsbridge: port must be one path, e.g. \"/tmp/ttyESP32\" or \"/dev/pts/5\"", call. = FALSE)
  }
  p <- new.env(parent = emptyenv())
  p$path <- port
  p$via <- via
  p$mode <- mode
  p$timestamps <- isTRUE(timestamps)
  p$header <- NULL
  p$pending <- character(0)
  p$partial <- ""
  p$owned <- TRUE # a connection this package opened and may reopen
  p$fresh <- isTRUE(skip_partial) # the next line may be the end of a cut one
  p$last_data <- Sys.time()
  p$last_check <- Sys.time()
  class(p) <- "wsbridge_port"
  port_connect(p)
  p
}

# port_connect opens p$path with p$via.
port_connect <- function(p) {
  p$target <- port_target(p$path)
  p$partial <- ""
  p$dead <- FALSE
  if (p$via == "file") {
    p$con <- tryCatch(file(p$path, open = "r", raw = TRUE, blocking = FALSE),
                      error = function(e) open_error(p$path, e), warning = function(w) open_error(p$path, w))
    return(invisible(p))
  }
  # tcltk (under serial) warns that Tk needs a display: only Tcl is used
  if (!suppressWarnings(requireNamespace("serial", quietly = TRUE))) {
    stop("wsbridge: via = \"serial\" needs the CRAN package 'serial' (install.packages(\"serial\")); ",
         "via = \"file\" needs nothing and is faster", call. = FALSE)
  }
  con <- serial::serialConnection(port = wsbridge_serial_name(p$path), mode = p$mode,
                                  translation = "binary")
  tryCatch(suppressWarnings(open(con)), error = function(e) open_error(p$path, e))
  p$con <- con
  invisible(p)
}

open_error <- function(path, e) {
  stop(sprintf("wsbridge: failed to open %s: %s (is wsbridge sink running? it prints the port's name)",
               path, conditionMessage(e)), call. = FALSE)
}

# port_target is where path leads (the /dev/pts/N behind a link).
port_target <- function(path) normalizePath(path, mustWork = FALSE)

#' The name the CRAN serial package needs for a port
#'
#' The \code{serial} package opens \code{paste0("/dev/", port)}. This turns
#' a path into the name that reaches it: \code{"/dev/pts/5"} becomes
#' \code{"pts/5"} and a link outside \code{/dev}, such as the one
#' \code{sink --virtual /tmp/ttyESP32} makes, becomes
#' \code{"../tmp/ttyESP32"}, which stays the same across sink restarts
#' (the \code{pts} number does not). A relative name is returned as it is.
#'
#' @param path path of the port.
#' @return The name to pass as \code{serial::serialConnection(port = ...)}.
#' @examples
#' wsbridge_serial_name("/dev/pts/5")     # "pts/5"
#' wsbridge_serial_name("/tmp/ttyESP32")  # "../tmp/ttyESP32"
#' @export
wsbridge_serial_name <- function(path) {
  if (!startsWith(path, "/")) {
    return(path)
  }
  if (startsWith(path, "/dev/")) {
    return(substring(path, 6L))
  }
  paste0("..", path)
}

# as_port wraps what wsbridge_read was given: a port object, a path (opened
# for this call) or a base R connection (read as it is; nothing is kept
# between calls).
as_port <- function(port, timestamps = NULL) {
  if (inherits(port, "wsbridge_port")) {
    if (!is.null(timestamps)) port$timestamps <- isTRUE(timestamps)
    return(port)
  }
  if (is.character(port)) {
    return(wsbridge_open(port, timestamps = isTRUE(timestamps)))
  }
  if (inherits(port, "connection")) {
    p <- new.env(parent = emptyenv())
    p$path <- NA_character_
    p$via <- "file"
    p$con <- port
    p$timestamps <- isTRUE(timestamps)
    p$header <- NULL
    p$pending <- character(0)
    p$partial <- ""
    p$owned <- FALSE
    p$fresh <- FALSE
    p$dead <- FALSE
    p$last_data <- Sys.time()
    p$last_check <- Sys.time()
    class(p) <- "wsbridge_port"
    return(p)
  }
  stop("wsbridge: port must be a path, a port from wsbridge_open() or a connection", call. = FALSE)
}

# port_fetch returns the complete lines that have arrived: what an earlier
# read left pending first, then up to n lines from the connection (n < 0:
# all there are; the serial path returns what one burst of reads got).
port_fetch <- function(p, n) {
  if (length(p$pending) > 0L) {
    x <- p$pending
    p$pending <- character(0)
    return(x)
  }
  if (p$via == "file") {
    return(tryCatch(readLines(p$con, n = n, warn = FALSE), error = function(e) {
      p$dead <- TRUE
      character(0)
    }))
  }
  serial_fetch(p)
}

# serial_fetch reads what the serial connection holds, 4096 bytes a call,
# and splits it into lines, keeping a partial last line for next time.
serial_fetch <- function(p) {
  chunks <- list()
  total <- 0
  repeat {
    b <- tryCatch(serial::read.serialConnection(p$con, n = 4096), error = function(e) NULL)
    if (is.null(b)) {
      p$dead <- TRUE
      break
    }
    if (!is.raw(b) || length(b) == 0L) break # NA: nothing buffered
    chunks[[length(chunks) + 1L]] <- b
    total <- total + length(b)
    if (length(b) < 4096L || total >= 1048576) break
  }
  if (length(chunks) == 0L) {
    return(character(0))
  }
  s <- paste0(p$partial, rawToChar(unlist(chunks, use.names = FALSE)))
  x <- strsplit(s, "\n", fixed = TRUE)[[1L]]
  if (endsWith(s, "\n")) {
    p$partial <- ""
  } else {
    p$partial <- x[length(x)]
    x <- x[-length(x)]
  }
  x
}

# port_moved reopens the port when the sink was restarted behind the same
# link (the link now leads to another pty, or the old one reads as dead)
# and returns the "# reopen" line to put in the stream, or NULL.
port_moved <- function(p) {
  if (!p$owned) {
    return(NULL)
  }
  now <- port_target(p$path)
  if (identical(now, p$target) || !file.exists(p$path)) {
    return(NULL)
  }
  old <- p$target
  port_disconnect(p)
  ok <- tryCatch({
    port_connect(p)
    TRUE
  }, error = function(e) FALSE)
  if (!ok) {
    p$target <- old # try again later
    return(NULL)
  }
  p$header <- NULL
  paste0("# reopen ", old, " -> ", p$target)
}

port_disconnect <- function(p) {
  if (!is.null(p$con)) {
    try(close(p$con), silent = TRUE)
    p$con <- NULL
  }
}

#' @describeIn wsbridge_open Close the port.
#' @param con a \code{wsbridge_port} from \code{wsbridge_open}.
#' @param ... ignored.
#' @export
close.wsbridge_port <- function(con, ...) {
  if (con$owned) port_disconnect(con)
  invisible(NULL)
}

#' @export
print.wsbridge_port <- function(x, ...) {
  cat(sprintf("<wsbridge_port %s via %s%s%s>\n", x$path, x$via,
              if (!is.null(x$target) && !identical(x$target, x$path)) paste0(" -> ", x$target) else "",
              if (is.null(x$con)) " (closed)" else ""))
  invisible(x)
}
