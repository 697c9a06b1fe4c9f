# wsbridge.R: the R package in r/wsbridge, loaded from a clone of the
# repository without installing it (base R only). Installing it is better:
#
#   R CMD INSTALL r/wsbridge                     # from a clone, or in R:
#   remotes::install_github("wsbridge/wsbridge", subdir = "r/wsbridge")
#   library(wsbridge)
#
# Either way:
#
#   source("examples/r/wsbridge.R")
#   d <- wsbridge_read("/tmp/ttyESP32", n_max = 10000, timeout = 5)
#   plot(d$ch0, type = "l")
#   wsbridge_gaps(d)                             # where d has holes, and why
#
#   con <- wsbridge_open("/tmp/ttyESP32")        # streaming: nothing is lost between calls
#   repeat { d <- wsbridge_read(con, n_max = 4800, timeout = 1); ... }
#   close(con)
#
# See r/wsbridge/README.md and docs/r.md.
local({
  here <- NULL
  for (i in rev(seq_len(sys.nframe()))) {
    here <- sys.frame(i)$ofile
    if (!is.null(here)) break
  }
  if (is.null(here)) stop("source() this file: source(\"examples/r/wsbridge.R\")")
  pkg <- file.path(dirname(here), "..", "..", "r", "wsbridge", "R")
  for (f in list.files(pkg, pattern = "[.]R$", full.names = TRUE)) {
    source(f, local = globalenv())
  }
})
