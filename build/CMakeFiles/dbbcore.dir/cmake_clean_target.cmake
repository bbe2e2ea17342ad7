file(REMOVE_RECURSE
  "libdbbcore.a"
)
