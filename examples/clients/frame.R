# Decode a wsbridge v1 data frame (a WebSocket binary message, as a raw vector).
#   Rscript frame.R --hex 01011c00...
# Returns list(seq, t_dev_us, rate, sample_type, samples = list(ch0, ch1, ...)).
decode_frame <- function(b) {
  u8 <- function(at) as.integer(b[at + 1])
  u16 <- function(at) u8(at) + 256 * u8(at + 1)
  u32 <- function(at) u16(at) + 65536 * u16(at + 2)
  if (u8(0) != 1 || u8(1) != 1 || u16(2) + 8 != length(b)) stop("not a v1 data frame")
  channels <- u8(20); stype <- u8(21); count <- u16(22)
  payload <- b[25:(length(b) - 4)]
  n <- count * channels
  v <- switch(as.character(stype),
    "1" = readBin(payload, "integer", n = n, size = 2, signed = FALSE, endian = "little"),
    "2" = readBin(payload, "integer", n = n, size = 2, signed = TRUE, endian = "little"),
    "3" = readBin(payload, "integer", n = n, size = 4, endian = "little"),
    "4" = readBin(payload, "double", n = n, size = 4, endian = "little"))
  m <- matrix(v, nrow = channels)  # one row per channel: samples are interleaved
  list(seq = u32(4), t_dev_us = u32(8) + 2^32 * u32(12), rate = u32(16),
       sample_type = c("u16", "i16", "i32", "f32")[stype],
       samples = lapply(seq_len(channels), function(c) m[c, ]))
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 2 && args[1] == "--hex") {
  h <- args[2]
  b <- as.raw(strtoi(substring(h, seq(1, nchar(h), 2), seq(2, nchar(h), 2)), 16L))
  f <- decode_frame(b)
  cat(sprintf("seq=%.0f t_dev_us=%.0f rate=%.0f type=%s\n", f$seq, f$t_dev_us, f$rate, f$sample_type))
  for (ch in f$samples) cat(format(ch, scientific = FALSE, trim = TRUE), sep = " ", "\n")
}
