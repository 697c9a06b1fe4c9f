test_that("csv with a header line: names from it, numbers exact", {
  d <- wsbridge_parse(c("left,right", "1,2", "-3,4", "65535,-32768"))
  expect_equal(names(d), c("left", "right"))
  expect_equal(d$left, c(1, -3, 65535))
  expect_equal(d$right, c(2, 4, -32768))
  expect_equal(nrow(wsbridge_events(d)), 0L)
})

test_that("plain, plotter and crlf forms", {
  expect_equal(wsbridge_parse(c("1 2", "3 4"))$ch1, c(2, 4))
  p <- wsbridge_parse(c("mic:5,acc:6", "mic:7,acc:8"))
  expect_equal(names(p), c("mic", "acc"))
  expect_equal(p$acc, c(6, 8))
  expect_equal(wsbridge_parse(c("1,2\r", "3,4\r"))$ch1, c(2, 4))
})

test_that("timestamps name the first column t_us", {
  d <- wsbridge_parse(c("1000,5,6", "2000,7,8"), timestamps = TRUE)
  expect_equal(names(d), c("t_us", "ch0", "ch1"))
})

test_that("gap, restart and reply lines become events at their rows", {
  lines <- c("1,2", "2,3",
             "# gap 1878..2229 frames=352 reason=sink_drop epoch=1a2b3c4d samples=56320",
             "100,101",
             "# restart epoch=9f00aa01 seq=0",
             "0,1",
             "# ok rate 8000",
             "# err bad_command: unknown command",
             "# reply ok start")
  d <- wsbridge_parse(lines)
  expect_equal(nrow(d), 4L)
  e <- wsbridge_events(d)
  expect_equal(e$type, c("gap", "restart", "reply", "reply", "reply"))
  expect_equal(e$row, c(3L, 4L, 5L, 5L, 5L))
  g <- wsbridge_gaps(d)
  expect_equal(nrow(g), 1L)
  expect_equal(c(g$from, g$to, g$frames, g$samples), c(1878, 2229, 352, 56320))
  expect_equal(g$reason, "sink_drop")
  expect_equal(g$epoch, "1a2b3c4d")
  expect_equal(e$seq[2], 0)
  expect_equal(e$epoch[2], "9f00aa01")
  expect_equal(e$ok[3:5], c(TRUE, FALSE, TRUE))
  expect_equal(e$text[3:5], c("rate 8000", "bad_command: unknown command", "start"))
  expect_equal(e$line, lines[startsWith(lines, "#")])
})

test_that("a gap line without samples= or frames= and unknown keys still parses", {
  g <- wsbridge_gaps(wsbridge_parse(c("# gap 4294967290..4294967295 reason=network epoch=00000001 later=x", "1")))
  expect_equal(c(g$from, g$to, g$frames), c(4294967290, 4294967295, 6))
  expect_true(is.na(g$samples))
  expect_equal(g$reason, "network")
})

test_that("other comments are kept as comments", {
  e <- wsbridge_events(wsbridge_parse(c("# hello there", "1,2")))
  expect_equal(e$type, "comment")
  expect_equal(e$text, "hello there")
  expect_equal(e$row, 1L)
})

test_that("a block of comments only has no rows but its events", {
  d <- wsbridge_parse("# gap 1..2 frames=2 reason=history epoch=abcdef01")
  expect_equal(nrow(d), 0L)
  expect_equal(wsbridge_gaps(d)$row, 1L)
})

test_that("mixed shapes and a changed header are errors", {
  expect_error(wsbridge_parse(c("1,2", "3")), "do not fill")
  expect_error(wsbridge_parse(c("a,b", "1,2", "a,b,c", "1,2,3")), "new header")
  expect_equal(nrow(wsbridge_parse(c("a,b", "1,2", "a,b", "3,4"))), 2L)
})

test_that("serial names: pts/N and a path outside /dev", {
  expect_equal(wsbridge_serial_name("/dev/pts/5"), "pts/5")
  expect_equal(wsbridge_serial_name("/tmp/ttyESP32"), "../tmp/ttyESP32")
  expect_equal(wsbridge_serial_name("pts/5"), "pts/5")
})
