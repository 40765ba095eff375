"""Study-agnostic estimators: design-based GLMs (survey), WQS, BKMR. Frames in, results out;
no warehouse and no NHANES names."""
