# Empty dependencies file for imc_objects.
# This may be replaced when dependencies are built.
