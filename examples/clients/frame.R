# Decode a wsbridge v1 data frame (a WebSocket binary message, as a raw vector).
#   Rscript frame.R --hex 01011c00...   (or --hex - < packets.txt: one packet in hex per line)
# Returns list(seq, t_dev_us, rate, sample_type, samples = list(ch0, ch1, ...)).
# A packet it refuses signals a condition of class "wsbridge_frame_error"
# whose $kind names the fault as internal/frame/frametest/golden.json does:
# short, too_large, version, length, crc, type, sample_type.

frame_error <- function(kind, msg) {
  stop(structure(class = c("wsbridge_frame_error", "error", "condition"),
                 list(message = paste0(kind, ": ", msg), call = NULL, kind = kind)))
}

# CRC-32C (Castagnoli) in 16-bit halves, as R's bitwise functions take
# 32-bit signed integers.
crc32c_table <- local({
  hi <- integer(256); lo <- integer(256)
  for (n in 0:255) {
    h <- 0L; l <- n
    for (k in 1:8) {
      odd <- bitwAnd(l, 1L) == 1L
      l <- bitwOr(bitwShiftR(l, 1L), bitwShiftL(bitwAnd(h, 1L), 15L)); h <- bitwShiftR(h, 1L)
      if (odd) { h <- bitwXor(h, 0x82F6L); l <- bitwXor(l, 0x3B78L) }
    }
    hi[n + 1] <- h; lo[n + 1] <- l
  }
  list(hi = hi, lo = lo)
})

crc32c <- function(b) {
  h <- 0xFFFFL; l <- 0xFFFFL
  for (x in as.integer(b)) {
    i <- bitwAnd(bitwXor(l, x), 0xFFL) + 1L
    l <- bitwOr(bitwShiftR(l, 8L), bitwShiftL(bitwAnd(h, 0xFFL), 8L)); h <- bitwShiftR(h, 8L)
    h <- bitwXor(h, crc32c_table$hi[i]); l <- bitwXor(l, crc32c_table$lo[i])
  }
  bitwXor(h, 0xFFFFL) * 65536 + bitwXor(l, 0xFFFFL)
}

decode_frame <- function(b) {
  n <- length(b)
  u8 <- function(at) as.integer(b[at + 1])
  u16 <- function(at) u8(at) + 256 * u8(at + 1)
  u32 <- function(at) u16(at) + 65536 * u16(at + 2)
  if (n < 8) frame_error("short", sprintf("packet of %d bytes", n))
  if (n > 65536) frame_error("too_large", sprintf("packet of %d bytes, at most 65536", n))
  if (u8(0) != 1) frame_error("version", sprintf("version %d, want 1", u8(0)))
  if (u16(2) + 8 != n) frame_error("length", sprintf("length field %d, packet %d bytes", u16(2), n))
  if (crc32c(b[1:(n - 4)]) != u32(n - 4)) frame_error("crc", "CRC-32C mismatch")
  if (!(u8(1) %in% 1:4)) frame_error("type", sprintf("unknown packet type 0x%02x", u8(1)))
  if (u8(1) != 1) frame_error("type", "not a data frame")
  if (n - 8 < 20) frame_error("short", sprintf("data body of %d bytes", n - 8))
  channels <- u8(20); stype <- u8(21); count <- u16(22)
  if (!(stype %in% 1:4)) frame_error("sample_type", sprintf("unknown sample type 0x%02x", stype))
  size <- c(2, 2, 4, 4)[stype]
  if (channels == 0 || n - 28 != count * channels * size) {
    frame_error("length", sprintf("%d channels x %d samples in %d bytes", channels, count, n - 28))
  }
  payload <- b[25:(n - 4)]
  m <- count * channels
  v <- switch(as.character(stype),
    "1" = readBin(payload, "integer", n = m, size = 2, signed = FALSE, endian = "little"),
    "2" = readBin(payload, "integer", n = m, size = 2, signed = TRUE, endian = "little"),
    "3" = readBin(payload, "integer", n = m, size = 4, endian = "little"),
    "4" = readBin(payload, "double", n = m, size = 4, endian = "little"))
  mat <- matrix(v, nrow = channels)  # one row per channel: samples are interleaved
  list(seq = u32(4), t_dev_us = u32(8) + 2^32 * u32(12), rate = u32(16),
       sample_type = c("u16", "i16", "i32", "f32")[stype],
       samples = lapply(seq_len(channels), function(c) mat[c, ]))
}

# print_hex decodes one packet given in hex and prints it on one line,
# "seq=S t_dev_us=T rate=R type=TYPE | ch0 samples | ch1 samples ...", or the error.
print_hex <- function(h) {
  b <- as.raw(strtoi(substring(h, seq(1, nchar(h), 2), seq(2, nchar(h), 2)), 16L))
  tryCatch({
    f <- decode_frame(b)
    chans <- vapply(f$samples, function(ch) paste(format(ch, scientific = FALSE, trim = TRUE), collapse = " "), "")
    cat(sprintf("seq=%.0f t_dev_us=%.0f rate=%.0f type=%s", f$seq, f$t_dev_us, f$rate, f$sample_type),
        paste("|", chans), "\n")
    TRUE
  }, wsbridge_frame_error = function(e) {
    cat("error ", conditionMessage(e), "\n", sep = "")
    FALSE
  })
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 2 && args[1] == "--hex") {
  lines <- args[2]
  if (lines == "-") {
    con <- file("stdin")
    lines <- trimws(readLines(con, warn = FALSE))
    close(con)
  }
  ok <- vapply(lines[nzchar(lines)], print_hex, TRUE)
  quit(status = if (all(ok)) 0 else 1)
}
