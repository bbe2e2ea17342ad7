# Included by CMakeLists.txt. The API description and the /docs page, embedded in the binary by
# src/http/assets.c (.incbin), so the daemon serves them from any working
# directory. docs/openapi.json is generated from docs/openapi.yaml and
# committed (tests/e2e/operability_spec.sh checks that they agree). Swagger
# UI comes from the npm package swagger-ui-dist, pinned in
# docs/swagger-ui/package-lock.json and installed into the build tree with
# `npm ci` (needs npm and the npm registry at build time; setup/install-deps.sh
# installs npm). -DDBB_DOCS_UI=OFF builds without it: /docs then answers 404
# and /openapi.json is still served.
option(DBB_DOCS_UI "Embed Swagger UI (npm package swagger-ui-dist) for GET /docs" ON)

set(DBB_OPENAPI_JSON ${CMAKE_SOURCE_DIR}/docs/openapi.json)
set(dbb_asset_defs DBB_OPENAPI_JSON="${DBB_OPENAPI_JSON}")
set(dbb_asset_deps ${DBB_OPENAPI_JSON})

if(DBB_DOCS_UI)
  find_program(DBB_NPM npm)
  if(NOT DBB_NPM)
    message(FATAL_ERROR "npm is needed to install Swagger UI for /docs: run setup/install-deps.sh "
                        "(or apt-get install npm), or configure with -DDBB_DOCS_UI=OFF")
  endif()
  set(ui_src ${CMAKE_SOURCE_DIR}/docs/swagger-ui)
  set(ui_dir ${CMAKE_BINARY_DIR}/swagger-ui)
  set(ui_dist ${ui_dir}/node_modules/swagger-ui-dist)
  # --ignore-scripts: no install scripts (the package's analytics hook
  # would try to reach the network).
  add_custom_command(
    OUTPUT ${ui_dist}/swagger-ui-bundle.js ${ui_dist}/swagger-ui.css
           ${ui_dist}/swagger-ui-standalone-preset.js ${ui_dist}/favicon-32x32.png
           ${ui_dist}/favicon-16x16.png
    COMMAND ${CMAKE_COMMAND} -E make_directory ${ui_dir}
    COMMAND ${CMAKE_COMMAND} -E copy ${ui_src}/package.json ${ui_src}/package-lock.json ${ui_dir}/
    COMMAND ${DBB_NPM} ci --prefix ${ui_dir} --ignore-scripts --no-audit --no-fund --loglevel=error
    COMMAND ${CMAKE_COMMAND} -E touch ${ui_dist}/swagger-ui-bundle.js ${ui_dist}/swagger-ui.css
            ${ui_dist}/swagger-ui-standalone-preset.js ${ui_dist}/favicon-32x32.png
            ${ui_dist}/favicon-16x16.png
    DEPENDS ${ui_src}/package.json ${ui_src}/package-lock.json
    COMMENT "Installing swagger-ui-dist with npm ci"
    VERBATIM)
  add_custom_target(dbb_swagger_ui DEPENDS ${ui_dist}/swagger-ui-bundle.js)
  add_dependencies(dbbcore dbb_swagger_ui)
  list(APPEND dbb_asset_defs DBB_SWAGGER_UI_DIR="${ui_dist}"
       DBB_DOCS_INDEX="${ui_src}/index.html" DBB_DOCS_INIT="${ui_src}/init.js")
  list(APPEND dbb_asset_deps ${ui_src}/index.html ${ui_src}/init.js ${ui_dist}/swagger-ui-bundle.js
       ${ui_dist}/swagger-ui.css ${ui_dist}/swagger-ui-standalone-preset.js)
endif()

# issue 21: the dashboard at /ui (docs/dashboard.md). Its own files are
# ui/index.html, ui/*.js (ES modules) and ui/app.css, hand-written; the
# chart is uPlot from npm, pinned in ui/package-lock.json and installed
# into the build tree with `npm ci` like Swagger UI. -DDBB_UI=OFF builds
# without it: /ui then answers 404.
option(DBB_UI "Embed the web dashboard (uPlot from npm) for GET /ui" ON)
set(DBB_UI_FILES index.html app.css app.js api.js auth.js util.js)
if(DBB_UI)
  find_program(DBB_NPM npm)
  if(NOT DBB_NPM)
    message(FATAL_ERROR "npm is needed to install uPlot for /ui: run setup/install-deps.sh "
                        "(or apt-get install npm), or configure with -DDBB_UI=OFF")
  endif()
  set(dash_src ${CMAKE_SOURCE_DIR}/ui)
  set(dash_dir ${CMAKE_BINARY_DIR}/ui)
  set(dash_uplot ${dash_dir}/node_modules/uplot/dist)
  add_custom_command(
    OUTPUT ${dash_uplot}/uPlot.esm.js ${dash_uplot}/uPlot.min.css
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dash_dir}
    COMMAND ${CMAKE_COMMAND} -E copy ${dash_src}/package.json ${dash_src}/package-lock.json ${dash_dir}/
    COMMAND ${DBB_NPM} ci --prefix ${dash_dir} --ignore-scripts --no-audit --no-fund --loglevel=error
    COMMAND ${CMAKE_COMMAND} -E touch ${dash_uplot}/uPlot.esm.js ${dash_uplot}/uPlot.min.css
    DEPENDS ${dash_src}/package.json ${dash_src}/package-lock.json
    COMMENT "Installing uplot with npm ci"
    VERBATIM)
  add_custom_target(dbb_dashboard_npm DEPENDS ${dash_uplot}/uPlot.esm.js)
  add_dependencies(dbbcore dbb_dashboard_npm)
  list(APPEND dbb_asset_defs DBB_UI_DIR="${dash_src}" DBB_UPLOT_DIR="${dash_uplot}")
  list(APPEND dbb_asset_deps ${dash_uplot}/uPlot.esm.js ${dash_uplot}/uPlot.min.css)
  foreach(f ${DBB_UI_FILES})
    list(APPEND dbb_asset_deps ${dash_src}/${f})
  endforeach()
endif()

set_source_files_properties(src/http/assets.c PROPERTIES
  COMPILE_DEFINITIONS "${dbb_asset_defs}"
  OBJECT_DEPENDS "${dbb_asset_deps}")
