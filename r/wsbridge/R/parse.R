#' Parse lines of a wsbridge sink stream
#'
#' Turns lines in any of the sink's text formats into a data frame of
#' numeric columns, one row per sample instant: csv (\code{512,498}), plain
#' (\code{512 498}) and plotter (\code{ch0:512,ch1:498}). Lines starting
#' with \code{#} are not data: command replies, and the gap and restart
#' lines the sink writes in order with the data, become the events table
#' (see \code{\link{wsbridge_events}}), so the data frame says where it has
#' holes.
#'
#' Column names come from \code{header}, else from a header line among
#' \code{lines} (\code{sink --header}), else they are \code{ch0},
#' \code{ch1}, ... (with \code{t_us} first when \code{timestamps = TRUE},
#' for \code{sink --timestamps}).
#'
#' @param lines character vector, one line per element, without the
#'   newline (a trailing carriage return, from \code{--line-ending crlf},
#'   is removed).
#' @param header column names, or \code{NULL}.
#' @param timestamps \code{TRUE} when the sink runs with
#'   \code{--timestamps}: the first column is the device time in
#'   microseconds.
#' @return A data frame with the attribute \code{"wsbridge_events"}; read
#'   it with \code{\link{wsbridge_events}} or \code{\link{wsbridge_gaps}}.
#' @examples
#' d <- wsbridge_parse(c("left,right", "1,2", "2,3",
#'                       "# gap 7..9 frames=3 reason=network epoch=1a2b3c4d",
#'                       "40,41"))
#' d
#' wsbridge_gaps(d)
#' @export
wsbridge_parse <- function(lines, header = NULL, timestamps = FALSE) {
  parse_block(as.character(lines), header, timestamps)$frame
}

# line_kind classifies each line: "data", "comment" (starts with '#'),
# "header" (csv names: starts with a letter, no ':' as in plotter lines)
# or "empty".
line_kind <- function(x) {
  c1 <- substr(x, 1L, 1L)
  k <- rep.int("data", length(x))
  k[c1 == ""] <- "empty"
  k[c1 == "#"] <- "comment"
  a <- which(c1 %in% c(letters, LETTERS, "_"))
  if (length(a) > 0L) k[a[!grepl(":", x[a], fixed = TRUE)]] <- "header"
  k
}

# strip_cr removes the carriage return of crlf line endings.
strip_cr <- function(x) {
  if (length(x) > 0L && any(endsWith(x[seq_len(min(8L, length(x)))], "\r"))) {
    x <- sub("\r$", "", x)
  }
  x
}

# parse_block parses lines into list(frame, header): the data frame (with
# its events) and the column names in force at the end. kind, when given,
# is line_kind(lines) of lines already stripped of carriage returns.
parse_block <- function(lines, header = NULL, timestamps = FALSE, kind = NULL) {
  if (is.null(kind)) {
    lines <- strip_cr(lines)
    kind <- line_kind(lines)
  }
  is_data <- kind == "data"
  rows <- cumsum(is_data)
  hdr <- which(kind == "header")
  if (length(hdr) > 0L) {
    first <- hdr[rows[hdr] == 0L]
    if (length(first) > 0L) header <- split_header(lines[first[length(first)]])
    for (h in hdr[rows[hdr] > 0L]) {
      if (!identical(split_header(lines[h]), header)) {
        stop(sprintf("wsbridge: a new header line after %d data rows (the channel count changed?): read the parts separately",
                     rows[h]), call. = FALSE)
      }
    }
  }
  com <- which(kind == "comment")
  events <- parse_comments(lines[com], rows[com] + 1L)
  d <- build_frame(lines[is_data], header, timestamps)
  attr(d, "wsbridge_events") <- events
  list(frame = d, header = if (ncol(d) > 0L) names(d) else header)
}

split_header <- function(h) strsplit(h, "[, ]")[[1L]]

# build_frame turns data lines into a data frame of numeric columns.
build_frame <- function(lines, header, timestamps) {
  if (length(lines) == 0L) {
    return(data.frame())
  }
  if (grepl(":", lines[1L], fixed = TRUE)) { # plotter: name:value,...
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
                 length(v), ncol), call. = FALSE)
  }
  m <- matrix(v, ncol = ncol, byrow = TRUE)
  if (is.null(header) || length(header) != ncol) {
    header <- paste0("ch", seq_len(ncol) - 1L)
    if (isTRUE(timestamps)) header <- c("t_us", header[-ncol])
  }
  colnames(m) <- header
  as.data.frame(m)
}

# empty_events is the events table with no rows.
empty_events <- function() {
  data.frame(row = integer(0), type = character(0), from = numeric(0), to = numeric(0),
             frames = numeric(0), samples = numeric(0), reason = character(0),
             epoch = character(0), seq = numeric(0), ok = logical(0), text = character(0),
             line = character(0), stringsAsFactors = FALSE)
}

# parse_comments turns '#' lines into the events table; row[i] is the
# data row that follows line i (one past the end when none does).
parse_comments <- function(x, row) {
  if (length(x) == 0L) {
    return(empty_events())
  }
  ev <- lapply(x, parse_comment)
  out <- data.frame(
    row = as.integer(row),
    type = vapply(ev, `[[`, "", "type"),
    from = vapply(ev, `[[`, 0, "from"),
    to = vapply(ev, `[[`, 0, "to"),
    frames = vapply(ev, `[[`, 0, "frames"),
    samples = vapply(ev, `[[`, 0, "samples"),
    reason = vapply(ev, `[[`, "", "reason"),
    epoch = vapply(ev, `[[`, "", "epoch"),
    seq = vapply(ev, `[[`, 0, "seq"),
    ok = vapply(ev, `[[`, NA, "ok"),
    text = vapply(ev, `[[`, "", "text"),
    line = x,
    stringsAsFactors = FALSE
  )
  out
}

# parse_comment reads one '#' line:
#   # gap FROM..TO frames=N reason=R epoch=E [samples=M]
#   # restart epoch=E seq=S
#   # ok TEXT | # err TEXT | # reply ok|err TEXT   (command replies)
#   # reopen OLD -> NEW                             (written by this package)
#   # skipped LINE                                  (this package: the first
#                                                    line after opening)
# Anything else is a "comment". Unknown key=value pairs are ignored, so
# later additions to these lines do not break older readers.
parse_comment <- function(line) {
  e <- list(type = "comment", from = NA_real_, to = NA_real_, frames = NA_real_,
            samples = NA_real_, reason = NA_character_, epoch = NA_character_,
            seq = NA_real_, ok = NA, text = NA_character_)
  body <- sub("^#[[:space:]]*", "", line)
  word <- sub("[[:space:]].*$", "", body)
  rest <- sub("^[^[:space:]]*[[:space:]]*", "", body)
  if (word == "reply") {
    word <- sub("[[:space:]].*$", "", rest)
    rest <- sub("^[^[:space:]]*[[:space:]]*", "", rest)
    if (!word %in% c("ok", "err")) word <- "comment"
  }
  kv <- function(key) {
    m <- regmatches(rest, regexec(paste0("(^|[[:space:]])", key, "=([^[:space:]]+)"), rest))[[1L]]
    if (length(m) == 0L) NA_character_ else m[3L]
  }
  num <- function(key) suppressWarnings(as.numeric(kv(key)))
  switch(word,
    gap = {
      r <- regmatches(rest, regexec("^([0-9]+)\\.\\.([0-9]+)", rest))[[1L]]
      if (length(r) == 3L) {
        e$from <- as.numeric(r[2L])
        e$to <- as.numeric(r[3L])
      }
      e$type <- "gap"
      e$frames <- num("frames")
      if (is.na(e$frames) && !is.na(e$from)) e$frames <- e$to - e$from + 1
      e$samples <- num("samples")
      e$reason <- kv("reason")
      e$epoch <- kv("epoch")
    },
    restart = {
      e$type <- "restart"
      e$epoch <- kv("epoch")
      e$seq <- num("seq")
    },
    ok = {
      e$type <- "reply"
      e$ok <- TRUE
      e$text <- rest
    },
    err = {
      e$type <- "reply"
      e$ok <- FALSE
      e$text <- rest
    },
    reopen = {
      e$type <- "reopen"
      e$text <- rest
    },
    skipped = {
      e$type <- "skipped"
      e$text <- rest
    },
    {
      e$text <- body
    }
  )
  e
}

#' Events in a block of the stream: gaps, restarts, replies
#'
#' The lines starting with \code{#} that the sink writes in order with the
#' data, parsed. Each event names the data row it comes before, so
#' \code{d[seq_len(e$row[1] - 1), ]} is the data before the first event.
#'
#' Columns: \code{row} (the data row that follows the event; one past the
#' last row when the event is at the end), \code{type} (\code{"gap"},
#' \code{"restart"}, \code{"reply"}, \code{"reopen"} when the port was
#' reopened after the sink restarted, \code{"skipped"} for the first line
#' after opening (it may have been cut; see \code{\link{wsbridge_open}}), or \code{"comment"}), \code{from},
#' \code{to} (the missing frames' sequence numbers, inclusive),
#' \code{frames}, \code{samples} (missing sample instants, \code{NA} when
#' the sink does not know them), \code{reason} (\code{device},
#' \code{history}, \code{slow_client}, \code{sink_drop} or \code{network}),
#' \code{epoch}, \code{seq} (a restart's first sequence number), \code{ok}
#' and \code{text} (replies), and \code{line} (the line as written).
#'
#' @param d a data frame from \code{\link{wsbridge_read}},
#'   \code{\link{wsbridge_parse}} or a block given to the function of
#'   \code{\link{wsbridge_stream}}.
#' @return A data frame, one row per event (none when the block had none).
#' @examples
#' d <- wsbridge_parse(c("1,2", "# restart epoch=5e1f00aa seq=0", "0,1",
#'                       "# ok rate 8000"))
#' wsbridge_events(d)
#' @export
wsbridge_events <- function(d) {
  e <- attr(d, "wsbridge_events", exact = TRUE)
  if (is.null(e)) empty_events() else e
}

#' @rdname wsbridge_events
#' @return \code{wsbridge_gaps} returns the gap events only.
#' @export
wsbridge_gaps <- function(d) {
  e <- wsbridge_events(d)
  e[e$type == "gap", , drop = FALSE]
}
