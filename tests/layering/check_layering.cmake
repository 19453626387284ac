# One layering probe (cmake/layers.cmake): with a layer target's include path, ALLOWED (a header
# of the layer or of one it uses) must compile and FORBIDDEN (a header of a layer it must not
# use) must fail because the file is not found. Run by ctest (tests/CMakeLists.txt).
#   cmake -DCXX=... -DINCLUDES=a|b|c -DALLOWED=x/y.h -DFORBIDDEN=z/w.h -DWORK=dir -P this
string(REPLACE "|" ";" dirs "${INCLUDES}")
set(flags)
foreach(dir IN LISTS dirs)
  list(APPEND flags "-I${dir}")
endforeach()
file(MAKE_DIRECTORY ${WORK})
foreach(header IN ITEMS ${ALLOWED} ${FORBIDDEN})
  string(MAKE_C_IDENTIFIER "${header}" name)
  file(WRITE ${WORK}/${name}.cc "#include \"${header}\"\n")
  execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only ${flags} ${WORK}/${name}.cc
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(header STREQUAL ALLOWED AND NOT rc EQUAL 0)
    message(FATAL_ERROR "${header} should compile with this layer's include path:\n${out}")
  endif()
  if(header STREQUAL FORBIDDEN)
    if(rc EQUAL 0)
      message(FATAL_ERROR "${header} compiled with this layer's include path: a wrong-way "
                          "include would go unnoticed")
    endif()
    if(NOT out MATCHES "${header}: No such file|'${header}' file not found")
      message(FATAL_ERROR "${header} failed, but not as a missing file:\n${out}")
    endif()
  endif()
endforeach()
message(STATUS "${ALLOWED} is visible, ${FORBIDDEN} is not")
