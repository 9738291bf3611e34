file(REMOVE_RECURSE
  "libimc_check.a"
)
