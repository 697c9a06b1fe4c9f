# The reading loop on ordinary files: the same connection type as a pty
# (file(raw = TRUE, blocking = FALSE)), without a sink.

write_lines <- function(path, x) writeLines(x, path)

test_that("wsbridge_read keeps the header and the rest of the lines between calls", {
  f <- tempfile()
  write_lines(f, c("a,b", "1,2", "# ok rate 8000", "3,4", "5,6", "a,b,c", "7,8,9"))
  con <- wsbridge_open(f, skip_partial = FALSE)
  on.exit(close(con))
  d1 <- wsbridge_read(con, n_max = 2, timeout = 0.2)
  expect_equal(names(d1), c("a", "b"))
  expect_equal(d1$a, c(1, 3))
  expect_equal(wsbridge_events(d1)$row, 2L)
  d2 <- wsbridge_read(con, n_max = 10, timeout = 0.2)   # stops before the new header
  expect_equal(d2$a, 5)
  expect_equal(names(d2), c("a", "b"))
  d3 <- wsbridge_read(con, n_max = 10, timeout = 0.2)
  expect_equal(names(d3), c("a", "b", "c"))
  expect_equal(unlist(d3[1, ]), c(a = 7, b = 8, c = 9))
})

test_that("the first data line after opening is skipped and said so", {
  f <- tempfile()
  write_lines(f, c("5,2", "3,4"))
  d <- wsbridge_read(f, n_max = 5, timeout = 0.1)
  expect_equal(d$ch1, 4)
  e <- wsbridge_events(d)
  expect_equal(e$type, "skipped")
  expect_equal(e$text, "5,2")
  expect_equal(e$row, 1L)
  write_lines(f, c("a,b", "# ok x", "1,2"))
  expect_equal(wsbridge_read(f, n_max = 5, timeout = 0.1)$a, 1)
})

test_that("a path is opened for one call, a plain connection is read as it is", {
  f <- tempfile()
  write_lines(f, c("1,2", "3,4"))
  expect_equal(wsbridge_read(f, n_max = 5, timeout = 0.1)$ch1, 4)
  con <- file(f, open = "r", raw = TRUE, blocking = FALSE)
  on.exit(close(con))
  expect_equal(nrow(wsbridge_read(con, n_max = 1, timeout = 0.1)), 1L)
  expect_equal(wsbridge_read(con, n_max = 1, timeout = 0.1)$ch0, 3)
})

test_that("wsbridge_stream calls FUN per block and counts event rows from the start", {
  f <- tempfile()
  write_lines(f, c(as.character(1:5), "# gap 10..11 frames=2 reason=network epoch=0000abcd", as.character(6:9)))
  seen <- list()
  con <- wsbridge_open(f, skip_partial = FALSE)
  on.exit(close(con))
  res <- wsbridge_stream(con, function(d) {
    seen[[length(seen) + 1L]] <<- d$ch0
    length(seen) < 3
  }, rows = 4, latency = 0.1, duration = 5)
  expect_equal(seen, list(1:4, 5:8, 9))
  expect_equal(res$rows, 9)
  expect_equal(res$blocks, 3L)
  expect_equal(res$events$row, 6L)
  expect_equal(res$events$type, "gap")
})

test_that("a port behind a link is reopened when the link moves (a restarted sink)", {
  skip_on_os("windows")
  dir <- tempfile()
  dir.create(dir)
  a <- file.path(dir, "a")
  b <- file.path(dir, "b")
  link <- file.path(dir, "tty")
  write_lines(a, c("1,2"))
  write_lines(b, c("10,11", "12,13"))
  file.symlink(a, link)
  con <- wsbridge_open(link, skip_partial = FALSE)
  on.exit(close(con))
  expect_equal(wsbridge_read(con, n_max = 1, timeout = 0.1)$ch0, 1)
  unlink(link)
  file.symlink(b, link)
  d <- wsbridge_read(con, n_max = 2, timeout = 3)
  expect_equal(d$ch0, c(10, 12))
  e <- wsbridge_events(d)
  expect_equal(e$type, "reopen")
  expect_equal(e$row, 1L)
  expect_match(e$text, "/a -> .*/b$")
})

test_that("opening a missing port says what to do", {
  expect_error(wsbridge_open(file.path(tempdir(), "no-such-tty")), "is wsbridge sink running")
})

test_that("wsbridge_send writes one line", {
  f <- tempfile()
  file.create(f)
  wsbridge_send(f, "rate 8000")
  expect_equal(readLines(f), "rate 8000")
  expect_error(wsbridge_send(f, "a\nb"), "one non-empty line")
})
