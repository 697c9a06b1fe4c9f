library(testthat)
library(wsbridge)

test_check("wsbridge")
