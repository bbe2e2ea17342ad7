# Issue 14, HTTP, uploads, logs and files (docs/reliability.md, "Threat
# model"): each test fails on the code before its fix. SQLite where a
# database is needed (embedded: no service).
foreach(t slow_clients decompression upload_lock ready logs hardlink http_details)
  dbb_e2e_test(NAME security.${t} SCRIPT security_${t}.sh LABELS security sqlite)
endforeach()
