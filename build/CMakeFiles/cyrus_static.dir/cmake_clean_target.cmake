file(REMOVE_RECURSE
  "libcyrus.a"
)
