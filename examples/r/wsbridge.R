# wsbridge.R: read the serial port that `wsbridge sink` writes into a
# data.frame of numeric columns, with base R only (no packages).
#
#   source("examples/r/wsbridge.R")
#   d <- wsbridge_read("/tmp/ttyESP", n_max = 10000, timeout = 5)
#   plot(d$ch0, type = "l")
#
# Streaming: keep one connection open and call wsbridge_read repeatedly;
# nothing is lost between calls (the sink buffers while you compute).
#
#   con <- wsbridge_open("/tmp/ttyESP")
#   repeat { d <- wsbridge_read(con, n_max = 4800, timeout = 1); ... }
#   close(con)
#
# Why this way: base R's file(port, "r", raw = TRUE, blocking = FALSE) with
# readLines() reads over a million lines per second. Without raw = TRUE R
# treats the tty like a file and may stall; the CRAN serial package needs
# translation = "binary" and read.serialConnection(con, n = 4096) to keep up
# above a few thousand lines per second (see docs/sink.md).
#
# Formats: csv (default), plain (space separated) and plotter
# ("ch0:12,ch1:34") are all read. Lines starting with '#' (command replies
# with `sink --replies-to-port`) are skipped. A header line (`sink --header`)
# names the columns; otherwise they are ch0, ch1, ... (t_us first when
# timestamps = TRUE, for `sink --timestamps`).

# wsbridge_open opens the port (the /dev/pts/N name or the --virtual link)
# the way that keeps up with the stream.
wsbridge_open <- function(port) {
  file(port, open = "r", raw = TRUE, blocking = FALSE)
}

# wsbridge_read returns up to n_max sample instants, waiting at most
# timeout seconds for them, as a data.frame. port is a path or a connection
# from wsbridge_open(). Fewer rows come back if the timeout ends first.
#
# Polling: the kernel hands a tty reader at most 4 KiB per read, so when
# nothing is there the wait starts at 0.2 ms (to keep up with fast streams)
# and doubles up to poll seconds while the port stays quiet (to save CPU).
wsbridge_read <- function(port, n_max = 10000, timeout = 5, timestamps = FALSE,
                          poll = 0.01) {
  con <- port
  if (is.character(port)) {
    con <- wsbridge_open(port)
    on.exit(close(con))
  }
  deadline <- Sys.time() + timeout
  chunks <- vector("list", 64)
  k <- 0L
  got <- 0L
  header <- NULL
  wait <- 0.0002
  repeat {
    x <- readLines(con, n = n_max - got, warn = FALSE)
    if (length(x) > 0L) {
      x <- x[!startsWith(x, "#") & nzchar(x)]
      if (is.null(header) && length(x) > 0L && grepl("^[A-Za-z_]", x[1L]) &&
          !grepl(":", x[1L], fixed = TRUE)) {
        header <- strsplit(x[1L], "[, ]")[[1L]]
        x <- x[-1L]
      }
      k <- k + 1L
      if (k > length(chunks)) length(chunks) <- 2L * length(chunks)
      chunks[[k]] <- x
      got <- got + length(x)
    }
    if (got >= n_max || Sys.time() >= deadline) break
    if (length(x) == 0L) {
      Sys.sleep(wait)
      wait <- min(wait * 2, poll)
    } else {
      wait <- 0.0002
    }
  }
  wsbridge_parse(unlist(chunks[seq_len(k)], use.names = FALSE), header, timestamps)
}

# wsbridge_parse turns lines in any of the sink's text formats into a
# data.frame of numeric columns.
wsbridge_parse <- function(lines, header = NULL, timestamps = FALSE) {
  if (length(lines) == 0L) {
    return(data.frame())
  }
  if (grepl(":", lines[1L], fixed = TRUE)) {            # plotter: name:value,...
    if (is.null(header)) {
      header <- sub(":.*", "", strsplit(lines[1L], ",", fixed = TRUE)[[1L]])
    }
    lines <- gsub("[^,:]+:", "", lines)
  }
  sep <- if (grepl(",", lines[1L], fixed = TRUE)) "," else " "
  ncol <- length(strsplit(lines[1L], sep, fixed = TRUE)[[1L]])
  v <- scan(text = lines, what = numeric(), sep = sep, quiet = TRUE)
  if (length(v) %% ncol != 0L) {
    stop(sprintf("wsbridge: %d values do not fill %d columns: mixed line shapes?",
                 length(v), ncol))
  }
  m <- matrix(v, ncol = ncol, byrow = TRUE)
  if (is.null(header) || length(header) != ncol) {
    header <- paste0("ch", seq_len(ncol) - 1L)
    if (timestamps) header <- c("t_us", header[-ncol])
  }
  colnames(m) <- header
  as.data.frame(m)
}
