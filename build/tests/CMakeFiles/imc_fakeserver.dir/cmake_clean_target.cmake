file(REMOVE_RECURSE
  "libimc_fakeserver.a"
)
