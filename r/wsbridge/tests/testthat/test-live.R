# Live tests: a sink's virtual port fed by simulator -> serve -> sink, set
# up by the Go test r/check_test.go (TestRCMDCheck), which names the port
# in WSBRIDGE_TEST_PORT and checks every value R writes to WSBRIDGE_TEST_OUT.
# The stream is a counter: sample index k carries k (ch0) and k + 1 (ch1).

live <- Sys.getenv("WSBRIDGE_TEST_PORT")
pts <- Sys.getenv("WSBRIDGE_TEST_PTS")
out <- Sys.getenv("WSBRIDGE_TEST_OUT")
control <- Sys.getenv("WSBRIDGE_TEST_CONTROL")
why <- "no live sink: run `go test ./r/` (it sets WSBRIDGE_TEST_PORT)"

need_serial <- function() {
  if (nzchar(Sys.getenv("WSBRIDGE_TEST_SERIAL"))) {
    # tcltk warns that Tk needs a display: only Tcl is used
    expect_true(suppressWarnings(requireNamespace("serial", quietly = TRUE)), label = "the serial package the Go test installed loads")
  } else {
    skip("the CRAN serial package is not installed: the Go test installs it from ../shared/r/serial_3.0.tar.gz")
  }
}

expect_counter <- function(d, n) {
  expect_equal(names(d), c("ch0", "ch1"))
  expect_equal(nrow(d), n)
  expect_equal(d$ch1, d$ch0 + 1)
  expect_true(all(diff(d$ch0) == 1), label = "consecutive sample indices")
  expect_equal(nrow(wsbridge_gaps(d)), 0L)
}

test_that("base R reads the live stream by the link, every row once across calls", {
  skip_if(live == "", why)
  con <- wsbridge_open(live)
  on.exit(close(con))
  d1 <- wsbridge_read(con, n_max = 3000, timeout = 30)
  d2 <- wsbridge_read(con, n_max = 2000, timeout = 30)
  expect_counter(d1, 3000)
  expect_counter(d2, 2000)
  expect_equal(d2$ch0[1], d1$ch0[3000] + 1)
  write.csv(rbind(d1, d2), file.path(out, "file.csv"), row.names = FALSE)
})

test_that("wsbridge_stream hands over blocks in order", {
  skip_if(live == "", why)
  last <- NA
  n <- 0
  res <- wsbridge_stream(live, function(d) {
    if (!is.na(last)) expect_equal(d$ch0[1], last + 1)
    last <<- d$ch0[nrow(d)]
    n <<- n + nrow(d)
    n < 2000
  }, rows = 500, duration = 30)
  expect_gte(res$rows, 2000)
  # The first line after opening is skipped (the end of a line whose start
  # the previous test's reader took), unless that reader stopped just
  # before a newline: then the port starts with an empty line, nothing is
  # cut and nothing is skipped. No other event.
  if (NROW(res$events) > 0L) {
    expect_equal(res$events$type, "skipped")
    expect_equal(res$events$row, 1L)
  }
})

test_that("the CRAN serial package reads it by the pts/N name", {
  skip_if(live == "", why)
  need_serial()
  expect_match(wsbridge_serial_name(pts), "^pts/[0-9]+$")
  con <- wsbridge_open(pts, via = "serial")
  on.exit(close(con))
  d <- wsbridge_read(con, n_max = 3000, timeout = 30)
  expect_counter(d, 3000)
  write.csv(d, file.path(out, "serial-pts.csv"), row.names = FALSE)
})

test_that("the CRAN serial package reads it by the link, as ../PATH from /dev", {
  skip_if(live == "", why)
  need_serial()
  expect_equal(wsbridge_serial_name(live), paste0("..", live))
  con <- wsbridge_open(live, via = "serial")
  on.exit(close(con))
  d <- wsbridge_read(con, n_max = 3000, timeout = 30)
  expect_counter(d, 3000)
  write.csv(d, file.path(out, "serial-link.csv"), row.names = FALSE)
})

test_that("through the serial package, the link keeps working across a sink restart", {
  skip_if(live == "" || control == "", why)
  need_serial()
  con <- wsbridge_open(live, via = "serial")
  on.exit(close(con))
  before <- con$target
  expect_counter(wsbridge_read(con, n_max = 500, timeout = 30), 500)
  file.create(file.path(control, "restart"))
  seen <- NULL
  d <- NULL
  deadline <- Sys.time() + 30
  while (is.null(seen) && Sys.time() < deadline) {
    b <- wsbridge_read(con, n_max = 1e5, timeout = 1)
    e <- wsbridge_events(b)
    if (any(e$type == "reopen")) {
      seen <- e[e$type == "reopen", ]
      if (seen$row <= nrow(b)) d <- b[seq(seen$row, nrow(b)), , drop = FALSE] # the new sink's first rows
    }
  }
  expect_false(is.null(seen), label = "a reopen event within 30 s")
  after <- readLines(file.path(control, "restarted"), warn = FALSE)
  expect_equal(con$target, after)
  expect_false(identical(before, after))
  expect_equal(seen$text, paste(before, "->", after))
  while (NROW(d) < 500 && Sys.time() < deadline) {
    d <- rbind(d, wsbridge_read(con, n_max = 500 - NROW(d), timeout = 5))
  }
  expect_gte(NROW(d), 500)
  expect_counter(d, NROW(d))
  write.csv(d, file.path(out, "restart-after.csv"), row.names = FALSE)
})

test_that("gap and restart lines from a real sink become events at their rows", {
  gaps <- Sys.getenv("WSBRIDGE_TEST_GAPS_PORT")
  skip_if(gaps == "", why)
  con <- wsbridge_open(gaps)
  on.exit(close(con))
  d <- wsbridge_read(con, n_max = 120, timeout = 30)
  expect_equal(names(d), c("left", "right"))
  expect_equal(nrow(d), 120L)
  e <- wsbridge_events(d)
  expect_equal(e$type, c("gap", "gap", "restart"))
  expect_equal(e$row, c(51L, 71L, 91L))
  g <- wsbridge_gaps(d)
  expect_equal(g$frames, c(3, 2))
  expect_equal(g$reason, c("history", "network"))
  # the rows around each hole
  expect_equal(d$left[e$row[1] - 1:0], c(49, 80))
  expect_equal(d$left[e$row[2] - 1:0], c(99, 120))
  expect_equal(d$left[e$row[3] - 1:0], c(139, 0))
  write.csv(d, file.path(out, "gaps-data.csv"), row.names = FALSE)
  write.csv(e[, c("row", "type", "from", "to", "frames", "samples", "reason", "epoch")],
            file.path(out, "gaps-events.csv"), row.names = FALSE)
})
