import { Field, ID, InputType, ObjectType } from 'type-graphql';
import type { ParameterSetInput } from '../../services/parameter-sets/parameter-set.service.js';

@ObjectType('Parameter', { description: 'A string parameter: `${set__name}` in an attached automation\'s settings is replaced by its value' })
export class ParameterObject {
  @Field(() => String) name!: string;
  @Field(() => String) value!: string;
}

@ObjectType('ParameterSet', {
  description:
    'Named string parameters shared by automations. Attach a set (parameterSetIds) and write `${set__param}` (double underscore) in SFTP host, directories and pattern, ETL transform strings and SQL, script variables, or a FILE path (any set). Values are not secret: they show in run logs and exports.',
})
export class ParameterSetObject {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => [ParameterObject]) parameters!: ParameterObject[];
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) modifiedAt!: Date;
}

@InputType('ParameterInput')
export class ParameterInput {
  @Field(() => String) name!: string;
  @Field(() => String) value!: string;
}

@InputType('CreateParameterSetInput')
export class CreateParameterSetInput implements ParameterSetInput {
  @Field(() => String, { description: 'Letters, digits and single underscores, starting with a letter' }) name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => [ParameterInput], { nullable: true, description: 'Names unique in the set; values are strings (at most 4 KB)' }) parameters?: ParameterInput[] | null;
}

@InputType('UpdateParameterSetInput')
export class UpdateParameterSetInput implements ParameterSetInput {
  @Field(() => String, { nullable: true, description: 'Refused while the set is in use: references name it' }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => [ParameterInput], {
    nullable: true,
    description: 'Replaces the whole list; a parameter something refers to cannot be left out',
  })
  parameters?: ParameterInput[] | null;
}
