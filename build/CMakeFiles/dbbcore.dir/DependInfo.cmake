
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/auth/auth.c" "CMakeFiles/dbbcore.dir/src/auth/auth.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/auth/auth.c.o.d"
  "/work/main/src/auth/b64url.c" "CMakeFiles/dbbcore.dir/src/auth/b64url.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/auth/b64url.c.o.d"
  "/work/main/src/auth/devkeys.c" "CMakeFiles/dbbcore.dir/src/auth/devkeys.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/auth/devkeys.c.o.d"
  "/work/main/src/auth/jwk.c" "CMakeFiles/dbbcore.dir/src/auth/jwk.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/auth/jwk.c.o.d"
  "/work/main/src/auth/jwks_source.c" "CMakeFiles/dbbcore.dir/src/auth/jwks_source.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/auth/jwks_source.c.o.d"
  "/work/main/src/auth/jwt_verify.c" "CMakeFiles/dbbcore.dir/src/auth/jwt_verify.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/auth/jwt_verify.c.o.d"
  "/work/main/src/auth/roles.c" "CMakeFiles/dbbcore.dir/src/auth/roles.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/auth/roles.c.o.d"
  "/work/main/src/config.c" "CMakeFiles/dbbcore.dir/src/config.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/config.c.o.d"
  "/work/main/src/driver/registry.c" "CMakeFiles/dbbcore.dir/src/driver/registry.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/driver/registry.c.o.d"
  "/work/main/src/driver/sniff.c" "CMakeFiles/dbbcore.dir/src/driver/sniff.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/driver/sniff.c.o.d"
  "/work/main/src/driver/sqlite.c" "CMakeFiles/dbbcore.dir/src/driver/sqlite.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/driver/sqlite.c.o.d"
  "/work/main/src/error.c" "CMakeFiles/dbbcore.dir/src/error.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/error.c.o.d"
  "/work/main/src/http/handler/create.c" "CMakeFiles/dbbcore.dir/src/http/handler/create.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/http/handler/create.c.o.d"
  "/work/main/src/http/handler/delete.c" "CMakeFiles/dbbcore.dir/src/http/handler/delete.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/http/handler/delete.c.o.d"
  "/work/main/src/http/handler/download.c" "CMakeFiles/dbbcore.dir/src/http/handler/download.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/http/handler/download.c.o.d"
  "/work/main/src/http/handler/health.c" "CMakeFiles/dbbcore.dir/src/http/handler/health.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/http/handler/health.c.o.d"
  "/work/main/src/http/handler/list.c" "CMakeFiles/dbbcore.dir/src/http/handler/list.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/http/handler/list.c.o.d"
  "/work/main/src/http/handler/restore.c" "CMakeFiles/dbbcore.dir/src/http/handler/restore.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/http/handler/restore.c.o.d"
  "/work/main/src/http/handler/stats.c" "CMakeFiles/dbbcore.dir/src/http/handler/stats.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/http/handler/stats.c.o.d"
  "/work/main/src/http/handler/upload.c" "CMakeFiles/dbbcore.dir/src/http/handler/upload.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/http/handler/upload.c.o.d"
  "/work/main/src/http/range.c" "CMakeFiles/dbbcore.dir/src/http/range.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/http/range.c.o.d"
  "/work/main/src/http/reply.c" "CMakeFiles/dbbcore.dir/src/http/reply.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/http/reply.c.o.d"
  "/work/main/src/http/router.c" "CMakeFiles/dbbcore.dir/src/http/router.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/http/router.c.o.d"
  "/work/main/src/http/server.c" "CMakeFiles/dbbcore.dir/src/http/server.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/http/server.c.o.d"
  "/work/main/src/log.c" "CMakeFiles/dbbcore.dir/src/log.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/log.c.o.d"
  "/work/main/src/ops/ops.c" "CMakeFiles/dbbcore.dir/src/ops/ops.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/ops/ops.c.o.d"
  "/work/main/src/storage/names.c" "CMakeFiles/dbbcore.dir/src/storage/names.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/storage/names.c.o.d"
  "/work/main/src/storage/storage.c" "CMakeFiles/dbbcore.dir/src/storage/storage.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/storage/storage.c.o.d"
  "/work/main/src/stream/child.c" "CMakeFiles/dbbcore.dir/src/stream/child.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/stream/child.c.o.d"
  "/work/main/src/stream/gzip.c" "CMakeFiles/dbbcore.dir/src/stream/gzip.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/stream/gzip.c.o.d"
  "/work/main/src/stream/hash.c" "CMakeFiles/dbbcore.dir/src/stream/hash.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/stream/hash.c.o.d"
  "/work/main/src/stream/stream.c" "CMakeFiles/dbbcore.dir/src/stream/stream.c.o" "gcc" "CMakeFiles/dbbcore.dir/src/stream/stream.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
