# The fault suite (docs/reliability.md): each test breaks one thing on purpose
# and checks that nothing is lost. The driver is a parameter (FAULT_DB in the
# test's environment, or $1): a driver joins by a case in each fdb_* function
# of fault_lib.sh and a line here.
set(DBB_FAULT_DRIVERS sqlite postgresql mysql neo4j)
# the lock each driver's e2e tests hold on their shared database
set(DBB_FAULT_LOCK_postgresql postgresql_db)
set(DBB_FAULT_LOCK_mysql mysql_database)
set(DBB_FAULT_LOCK_neo4j neo4j_db)

# dbb_fault_test(name driver [SCRIPT file]): e2e.fault.<name>.<driver>
function(dbb_fault_test t drv)
  cmake_parse_arguments(F "" "SCRIPT" "" ${ARGN})
  if(NOT F_SCRIPT)
    set(F_SCRIPT fault_${t}.sh)
  endif()
  set(svc "")
  if(NOT drv STREQUAL "sqlite")
    set(svc ${drv})
  endif()
  dbb_e2e_test(NAME fault.${t}.${drv} SCRIPT ${F_SCRIPT} LABELS fault SERVICES ${svc})
  set_property(TEST e2e.fault.${t}.${drv} APPEND PROPERTY ENVIRONMENT "FAULT_DB=${drv}")
  if(svc)
    set_property(TEST e2e.fault.${t}.${drv} PROPERTY RESOURCE_LOCK ${DBB_FAULT_LOCK_${drv}})
  endif()
endfunction()

foreach(drv ${DBB_FAULT_DRIVERS})
  # db_gone stops the database in the middle: tests/services/<db>.sh
  # pause|resume
  foreach(t kill concurrency db_gone)
    dbb_fault_test(${t} ${drv})
  endforeach()
  dbb_fault_test(hostile ${drv} SCRIPT hostile.sh)
endforeach()
# faults of the daemon itself, the same whatever the driver: SQLite
foreach(t disk_full disconnect slowloris)
  dbb_fault_test(${t} sqlite)
endforeach()
set_property(TEST e2e.fault.disk_full.sqlite PROPERTY SKIP_RETURN_CODE 77)
# a hung child tool: the drivers that run one
dbb_fault_test(child_hang postgresql)
dbb_fault_test(child_hang mysql)
