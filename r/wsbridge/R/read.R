#' Read sample instants from the port
#'
#' Reads up to \code{n_max} rows (sample instants), waiting at most
#' \code{timeout} seconds for them, and returns them as a data frame of
#' numeric columns; fewer rows come back when the timeout ends first. Gap,
#' restart and reply lines that arrived with them are in
#' \code{\link{wsbridge_events}(d)}.
#'
#' Keep one port open and call \code{wsbridge_read} repeatedly to follow
#' the stream: nothing is lost between calls (the sink buffers while you
#' compute; see its \code{--buffer}), and each row is read once.
#'
#' Polling: a tty hands a reader at most 4 KiB per read, so when nothing
#' is there the wait starts at 0.2 ms (to keep up with fast streams) and
#' doubles up to \code{poll} seconds while the port stays quiet (to save
#' CPU).
#'
#' @param port a port from \code{\link{wsbridge_open}} (the column names
#'   and any partial line are kept between calls), a path (opened and
#'   closed for this call), or a base R connection opened with
#'   \code{file(port, "r", raw = TRUE, blocking = FALSE)}.
#' @param n_max the most rows to return (\code{Inf}: all that arrive
#'   within \code{timeout}).
#' @param timeout seconds to wait at most.
#' @param timestamps \code{TRUE} when the sink runs with
#'   \code{--timestamps}; \code{NULL} keeps the port's setting.
#' @param poll the longest pause between polls of a quiet port, seconds.
#' @return A data frame, one row per sample instant, with the events
#'   attribute (see \code{\link{wsbridge_events}}). Columns are named from
#'   the sink's \code{--header} line, else \code{ch0}, \code{ch1}, ...
#' @examples
#' \dontrun{
#' d <- wsbridge_read("/tmp/ttyESP32", n_max = 16000, timeout = 5)
#' plot(d$ch0, type = "l")
#' wsbridge_gaps(d)   # where d has holes, and why
#' }
#' @export
wsbridge_read <- function(port, n_max = 10000, timeout = 5, timestamps = NULL, poll = 0.01) {
  p <- as_port(port, timestamps)
  if (!inherits(port, "wsbridge_port")) on.exit(close(p))
  deadline <- Sys.time() + timeout
  chunks <- vector("list", 64L)
  kinds <- vector("list", 64L)
  k <- 0L
  got <- 0
  wait <- 0.0002
  add <- function(x, kind) {
    k <<- k + 1L
    if (k > length(chunks)) {
      length(chunks) <<- 2L * length(chunks)
      length(kinds) <<- length(chunks)
    }
    chunks[[k]] <<- x
    kinds[[k]] <<- kind
  }
  repeat {
    want <- if (is.finite(n_max)) max(n_max - got, 0) else -1L
    x <- port_fetch(p, want)
    full <- FALSE
    if (length(x) > 0L) {
      p$last_data <- Sys.time()
      if (p$fresh) x <- skip_first(p, x)
      x <- strip_cr(x)
      kind <- line_kind(x)
      cut <- block_end(kind, got, n_max, keep_pending = p$owned || p$via == "serial")
      if (cut < length(x)) {
        p$pending <- c(x[(cut + 1L):length(x)], p$pending)
        x <- x[seq_len(cut)]
        kind <- kind[seq_len(cut)]
        full <- TRUE
      }
      add(x, kind)
      got <- got + sum(kind == "data")
      wait <- 0.0002
    } else {
      moved <- quiet_check(p)
      if (!is.null(moved)) {
        add(moved, "comment")
        full <- got > 0 # end this block where the old port ended
      }
    }
    if (full || got >= n_max || Sys.time() >= deadline) break
    if (length(x) == 0L) {
      Sys.sleep(wait)
      wait <- min(wait * 2, poll)
    }
  }
  s <- seq_len(k)
  b <- parse_block(unlist(chunks[s], use.names = FALSE), p$header, p$timestamps,
                   kind = unlist(kinds[s], use.names = FALSE))
  p$header <- b$header
  b$frame
}

# skip_first turns the first line read after opening into a "# skipped"
# line when it is a data line: it may be the end of a line whose start
# another reader took. A header or '#' line first is complete.
skip_first <- function(p, x) {
  p$fresh <- FALSE
  if (line_kind(sub("\r$", "", x[1L])) == "data") {
    x[1L] <- paste("# skipped", x[1L])
  }
  x
}

# block_end is how many of the new lines (of kinds kind) belong to this block: the block
# stops at n_max data rows, and before a header line that follows data
# (the sink writes one when the channel count changes, and a restarted
# sink writes its own), which then starts the next block. Lines past the
# end go back to the port (only when keep_pending; a plain connection reads
# at most n_max lines anyway).
block_end <- function(kind, got, n_max, keep_pending) {
  if (!keep_pending) {
    return(length(kind))
  }
  rows <- got + cumsum(kind == "data")
  cut <- length(kind)
  over <- which(kind == "data" & rows > n_max)
  if (length(over) > 0L) cut <- over[1L] - 1L
  h <- which(kind == "header" & rows > 0)
  if (length(h) > 0L) cut <- min(cut, h[1L] - 1L)
  cut
}

# quiet_check runs while the port is quiet: after a second without data it
# looks (at most twice a second) whether the sink was restarted behind the
# link, and if so reopens the port and returns the "# reopen" line.
quiet_check <- function(p) {
  now <- Sys.time()
  if (!p$owned || now - p$last_check < 0.5 || (!p$dead && now - p$last_data < 1)) {
    return(NULL)
  }
  p$last_check <- now
  port_moved(p)
}

#' Follow the stream, calling a function per block of rows
#'
#' Reads the port in blocks of up to \code{rows} sample instants (a block
#' ends early after \code{latency} seconds, so a slow stream still comes
#' through promptly) and calls \code{FUN(d)} on each: a data frame as
#' \code{\link{wsbridge_read}} returns, whose
#' \code{\link{wsbridge_events}} (gaps, restarts, replies) name rows of
#' that block. Stops when \code{FUN} returns \code{FALSE}, after
#' \code{duration} seconds, or on an interrupt.
#'
#' @param port a port from \code{\link{wsbridge_open}}, or a path (opened
#'   for the call and closed at the end).
#' @param FUN a function of one data frame; return \code{FALSE} to stop.
#' @param rows the most rows per block.
#' @param latency the longest wait for a block, seconds.
#' @param duration stop after this many seconds (\code{Inf}: until
#'   \code{FUN} says stop).
#' @param timestamps as in \code{\link{wsbridge_read}}.
#' @return Invisibly, a list: \code{rows} (read in all), \code{blocks}
#'   (calls of \code{FUN}), and \code{events}, every event with \code{row}
#'   counted from the first row of the first block.
#' @examples
#' \dontrun{
#' # the RMS of channel 0 every 4800 rows (0.1 s at 48 kHz), for a minute
#' wsbridge_stream("/tmp/ttyESP32", function(d) {
#'   g <- wsbridge_gaps(d)
#'   if (nrow(g) > 0) message("lost ", sum(g$frames), " frames: ", g$reason[1])
#'   cat(sqrt(mean(d$ch0^2)), "\n")
#' }, rows = 4800, duration = 60)
#' }
#' @export
wsbridge_stream <- function(port, FUN, rows = 4800, latency = 0.5, duration = Inf,
                            timestamps = NULL) {
  FUN <- match.fun(FUN)
  p <- as_port(port, timestamps)
  if (!inherits(port, "wsbridge_port")) on.exit(close(p))
  start <- Sys.time()
  total <- 0
  blocks <- 0L
  events <- list(empty_events())
  repeat {
    left <- duration - as.numeric(Sys.time() - start, units = "secs")
    if (left <= 0) break
    d <- wsbridge_read(p, n_max = rows, timeout = min(latency, left))
    e <- wsbridge_events(d)
    if (nrow(d) == 0L && nrow(e) == 0L) next
    blocks <- blocks + 1L
    if (nrow(e) > 0L) {
      e$row <- e$row + as.integer(total)
      events[[length(events) + 1L]] <- e
    }
    total <- total + nrow(d)
    if (identical(FUN(d), FALSE)) break
  }
  invisible(list(rows = total, blocks = blocks, events = do.call(rbind, events)))
}

#' Send a command to the device through the port
#'
#' Writes \code{line} and a newline into the port; the sink sends each line
#' written into the port to serve, which passes it to the device (e.g.
#' \code{"rate 8000"}). The device's reply comes back in the stream as an
#' event when the sink runs with \code{--replies-to-port}.
#'
#' @param port a port from \code{\link{wsbridge_open}} or a path.
#' @param line the command, one line.
#' @return \code{TRUE}, invisibly.
#' @examples
#' \dontrun{
#' wsbridge_send("/tmp/ttyESP32", "rate 8000")
#' }
#' @export
wsbridge_send <- function(port, line) {
  if (!is.character(line) || length(line) != 1L || grepl("[\r\n]", line) || !nzchar(line)) {
    stop("wsbridge: line must be one non-empty line of text", call. = FALSE)
  }
  if (inherits(port, "wsbridge_port") && port$via == "serial") {
    serial::write.serialConnection(port$con, charToRaw(paste0(line, "\n")))
    return(invisible(TRUE))
  }
  path <- if (inherits(port, "wsbridge_port")) port$path else port
  w <- file(path, open = "w", raw = TRUE)
  on.exit(close(w))
  writeLines(line, w)
  flush(w)
  invisible(TRUE)
}
